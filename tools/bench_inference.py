"""Inference benchmark: streamed tiled inference vs bare session.run, flat memory, and the Deepness way.

    python tools/bench_inference.py --out build/bench.json [--size 4096] [--rss-sizes 2048 8192] [--device cpu]

Every measurement runs in its own subprocess (fresh session, isolated peak RSS from
``getrusage``). Writes/merges the key ``inference`` (``--key``) into the JSON file ``--out`` and
prints a table. Numbers depend on the machine and on its load: the JSON records both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_models  # noqa: E402
from onnx_metadata import core_module as _core  # noqa: E402

TILE, OVERLAP, BATCH = 256, 32, 4
META = {
    "name": "bench U-Net",
    "task": "change_detection",
    "classes": [{"name": "no change", "background": True}, {"name": "change", "color": "#e31a1c"}],
    "layout": "concat",
    "bands": list(bench_models.BANDS),
    "preprocessing": {"*": {"scale": 1e-4, "clip": [0, 1], "mean": 0.3, "std": 0.15}},
    "tile_size_px": TILE,
    "tile_overlap_px": OVERLAP,
    "output": {"kind": "logits", "activation": "softmax"},
}


def _peak_rss_mb() -> float:
    """This process's own peak RSS.

    Linux keeps ``ru_maxrss`` across fork + exec, so a worker would inherit its parent's
    high-water mark (the parent writes the big test images); ``VmHWM`` belongs to the
    worker's own address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _TimedSession:
    """Wraps an onnxruntime session and adds up the time spent inside ``run``."""

    def __init__(self, session: object) -> None:
        self.session = session
        self.seconds = 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(self.session, name)

    def run(self, *args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return self.session.run(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def worker_pipeline(args: argparse.Namespace) -> dict:
    """The real thing (``core.models.inference.run_model``), with its own session.run time measured on the side."""
    inference, runtime = _core("models.inference"), _core("models.runtime")
    started = time.perf_counter()
    session, _ = runtime.get_session(args.model, args.device, args.threads)
    timed = _TimedSession(session)
    runtime._CACHE[runtime.session_key(args.model, args.device, args.threads)] = timed
    config = inference.InferenceConfig(device=args.device, threads=args.threads, batch_size=BATCH)
    outputs = inference.InferenceOutputs(os.path.join(args.workdir, f"classes_{args.tag}.tif"))
    product = inference.run_model(args.model, [args.before, args.after], outputs, config)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "session_run_seconds": timed.seconds, "pixels": product.stats.total_pixels}


def worker_bare(args: argparse.Namespace) -> dict:
    """session.run alone on the same number of batches of the same shapes as the pipeline."""
    import numpy as np

    runtime, tiling = _core("models.runtime"), _core("models.tiling")
    session, _ = runtime.get_session(args.model, args.device, args.threads)
    n_rows = len(tiling.tile_starts(args.size, TILE, OVERLAP))
    n_cols = len(tiling.tile_starts(args.size, TILE, OVERLAP))
    batches = [min(BATCH, n_cols - i) for i in range(0, n_cols, BATCH)] * n_rows
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 8, TILE, TILE)).astype(np.float32)
    session.run(None, {"x": x[:1]})  # warm-up, like the pipeline's first batch is not
    total = 0.0
    for n in batches:
        feed = {"x": np.ascontiguousarray(x[:n])}
        started = time.perf_counter()
        session.run(None, feed)
        total += time.perf_counter() - started
    return {"seconds": total, "tiles": n_rows * n_cols}


def worker_deepness(args: argparse.Namespace) -> dict:
    """The Deepness way: the whole area in memory, tiles pasted without blending, one write at the end."""
    import numpy as np
    from osgeo import gdal

    runtime = _core("models.runtime")
    started = time.perf_counter()
    session, _ = runtime.get_session(args.model, args.device, args.threads)
    stack = []
    for path in (args.before, args.after):
        ds = gdal.Open(path)
        stack.append(ds.ReadAsArray().astype(np.float32))
        grid = (ds.GetGeoTransform(), ds.GetProjection())
    image = np.concatenate(stack)
    del stack
    image = (np.clip(image * 1e-4, 0, 1) - 0.3) / 0.15
    size = image.shape[1]
    result = np.zeros((2, size, size), np.float32)
    starts = list(range(0, size - TILE, TILE - OVERLAP)) + [size - TILE]
    half = OVERLAP // 2
    for r in starts:
        for c0 in range(0, len(starts), BATCH):
            cols = starts[c0 : c0 + BATCH]
            batch = np.stack([image[:, r : r + TILE, c : c + TILE] for c in cols])
            out = session.run(None, {"x": batch})[0]
            for c, tile in zip(cols, out):
                top, left = (0 if r == 0 else half), (0 if c == 0 else half)
                result[:, r + top : r + TILE, c + left : c + TILE] = tile[:, top:, left:]
    classes = np.argmax(result, axis=0).astype(np.uint8)
    path = os.path.join(args.workdir, f"deepness_{args.tag}.tif")
    ds = gdal.GetDriverByName("GTiff").Create(path, size, size, 1, gdal.GDT_Byte, options=["COMPRESS=DEFLATE"])
    ds.SetGeoTransform(grid[0])
    ds.SetProjection(grid[1])
    ds.GetRasterBand(1).WriteArray(classes)
    ds = None
    return {"seconds": time.perf_counter() - started}


WORKERS = {"pipeline": worker_pipeline, "bare": worker_bare, "deepness": worker_deepness}


def _spawn(kind: str, model: str, images: tuple[str, str], size: int, args: argparse.Namespace, tag: str) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--model",
        model,
        "--before",
        images[0],
        "--after",
        images[1],
        "--size",
        str(size),
        "--device",
        args.device,
        "--threads",
        str(args.threads),
        "--workdir",
        args.workdir,
        "--tag",
        tag,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _images(workdir: str, size: int) -> tuple[str, str]:
    paths = []
    for seed, name in ((1, "before"), (2, "after")):
        path = Path(workdir) / f"{name}_{size}.tif"
        if not path.exists():
            bench_models.write_image(path, size, seed)
        paths.append(str(path))
    return paths[0], paths[1]


def _models(workdir: str) -> tuple[str, int, str]:
    write_metadata = _core("models.meta").write_metadata
    unet, light = Path(workdir) / "unet.onnx", Path(workdir) / "light.onnx"
    params = bench_models.unet(unet)
    bench_models.light(light)
    for path in (unet, light):
        write_metadata(str(path), META)
    return str(unet), params, str(light)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rss-sizes", type=int, nargs=2, default=(2048, 8192))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--workdir", default="")
    parser.add_argument("--key", default="inference", help="JSON key to write (e.g. inference_cuda)")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats of the timed runs (best kept)")
    parser.add_argument("--worker", choices=sorted(WORKERS))
    for name in ("--model", "--before", "--after", "--tag"):
        parser.add_argument(name, default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](args)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))  # noqa: T201 - worker protocol
        return 0
    with tempfile.TemporaryDirectory(prefix="changelens-bench-", dir=args.workdir or None) as workdir:
        args.workdir = workdir
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    unet, params, light = _models(args.workdir)
    load_before = os.getloadavg()
    images = _images(args.workdir, args.size)
    # Interleaved repeats, best of each: the machine is shared and its load drifts.
    runs: dict[str, list[dict]] = {"pipeline": [], "bare": [], "deepness": []}
    for repeat in range(args.repeats):
        for kind in ("pipeline", "bare") + (("deepness",) if repeat == 0 else ()):
            runs[kind].append(_spawn(kind, unet, images, args.size, args, "unet"))
    pipeline, bare, deepness = (min(runs[k], key=lambda r: r["seconds"]) for k in ("pipeline", "bare", "deepness"))
    rss = {}
    for size in args.rss_sizes:
        imgs = _images(args.workdir, size)
        rss[str(size)] = {
            "pipeline": _spawn("pipeline", light, imgs, size, args, f"light{size}"),
            "deepness": _spawn("deepness", light, imgs, size, args, f"light{size}"),
        }
        for path in imgs:
            os.remove(path)
    small, large = (str(s) for s in args.rss_sizes)
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1_5_15_before": load_before,
            "load_avg_1_5_15_after": os.getloadavg(),
            "note": "shared machine: other developers' jobs run at the same time; run under nice -n 10",
        },
        "device": args.device,
        "threads": args.threads or "onnxruntime default (all cores)",
        "model": {"kind": "U-Net, 4 levels (16-32-64-128)", "parameters": params, "input": "8 x 256 x 256"},
        "size_px": args.size,
        "tiles": bare["tiles"],
        "tile_px": TILE,
        "overlap_px": OVERLAP,
        "batch": BATCH,
        "pipeline_s": round(pipeline["seconds"], 2),
        "bare_session_run_s": round(bare["seconds"], 2),
        "overhead_pct": round(100.0 * (pipeline["seconds"] / bare["seconds"] - 1.0), 1),
        "pipeline_session_run_s": round(pipeline["session_run_seconds"], 2),
        "overhead_in_process_pct": round(100.0 * (pipeline["seconds"] / pipeline["session_run_seconds"] - 1.0), 1),
        "all_runs_s": {k: [round(r["seconds"], 2) for r in v] for k, v in runs.items()},
        "repeats": args.repeats,
        "deepness_way_s": round(deepness["seconds"], 2),
        "pipeline_peak_rss_mb": round(pipeline["peak_rss_mb"], 1),
        "deepness_way_peak_rss_mb": round(deepness["peak_rss_mb"], 1),
        "rss": {
            "model": "light (3x3 8->8 + 1x1 8->2): I/O and blending dominate",
            "sizes_px": list(args.rss_sizes),
            "pipeline_peak_rss_mb": {s: round(v["pipeline"]["peak_rss_mb"], 1) for s, v in rss.items()},
            "deepness_way_peak_rss_mb": {s: round(v["deepness"]["peak_rss_mb"], 1) for s, v in rss.items()},
            "pipeline_seconds": {s: round(v["pipeline"]["seconds"], 2) for s, v in rss.items()},
            "pipeline_ratio_large_over_small": round(
                rss[large]["pipeline"]["peak_rss_mb"] / rss[small]["pipeline"]["peak_rss_mb"], 3
            ),
            "deepness_ratio_large_over_small": round(
                rss[large]["deepness"]["peak_rss_mb"] / rss[small]["deepness"]["peak_rss_mb"], 3
            ),
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() and out.stat().st_size else {}
    data[args.key] = result
    out.write_text(json.dumps(data, indent=2))
    _table(result)
    return 0


def _table(r: dict) -> None:
    rows = [
        ("model parameters", f"{r['model']['parameters']:,}"),
        (f"tiles ({r['size_px']}^2, {r['tile_px']} px, overlap {r['overlap_px']})", str(r["tiles"])),
        ("end-to-end streamed inference (s)", f"{r['pipeline_s']:.1f}"),
        ("bare session.run, same tiles (s)", f"{r['bare_session_run_s']:.1f}"),
        ("overhead vs bare run (%)", f"{r['overhead_pct']:.1f}"),
        ("session.run inside the streamed run (s)", f"{r['pipeline_session_run_s']:.1f}"),
        ("overhead vs its own session.run (%)", f"{r['overhead_in_process_pct']:.1f}"),
        ("Deepness way, whole area in memory (s)", f"{r['deepness_way_s']:.1f}"),
        (
            "peak RSS streamed / Deepness way (MB)",
            f"{r['pipeline_peak_rss_mb']:.0f} / {r['deepness_way_peak_rss_mb']:.0f}",
        ),
    ]
    s = r["rss"]
    a, b = (str(v) for v in s["sizes_px"])
    rows += [
        (
            f"peak RSS streamed {a}^2 / {b}^2 (MB)",
            f"{s['pipeline_peak_rss_mb'][a]:.0f} / {s['pipeline_peak_rss_mb'][b]:.0f}",
        ),
        ("  ratio (must be <= 1.2)", f"{s['pipeline_ratio_large_over_small']:.3f}"),
        (
            f"peak RSS Deepness way {a}^2 / {b}^2 (MB)",
            f"{s['deepness_way_peak_rss_mb'][a]:.0f} / {s['deepness_way_peak_rss_mb'][b]:.0f}",
        ),
        (
            "load average before / after",
            f"{r['machine']['load_avg_1_5_15_before'][0]:.1f} / {r['machine']['load_avg_1_5_15_after'][0]:.1f}",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"Inference benchmark ({r['device']}, {r['machine']['cpus']} CPUs)")  # noqa: T201
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")  # noqa: T201


if __name__ == "__main__":
    sys.exit(main())
