"""Wall time and memory of `changelens batch` over generated Sentinel-1 pairs with 1 and 2 Dask workers.

    nice .venv/bin/python tools/bench_cluster.py --pairs 8 --size 2048 --out build/bench_cluster.json

Each pair is a VV/VH dB before/after image of SIZE x SIZE pixels (10 m) with a river and a flood; the job
runs changelens:sarflood with polygons, table and report. Memory is the peak resident size, sampled every
0.1 s, of each Dask worker process and of each pair's own process (workers run every pair in a fresh
process), next to the peak of one `changelens sarflood` run of one pair.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from osgeo import gdal, osr

ROOT = Path(__file__).resolve().parent.parent
gdal.UseExceptions()


def write_pair(folder: Path, size: int, seed: int) -> None:
    """A flooded Sentinel-1 pair (VV, VH in dB) in ``folder``: before.tif and after.tif."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    yy, xx = np.mgrid[0:size, 0:size]
    river = np.abs(xx - size * 0.3 - 40 * np.sin(yy / 90.0)) < size * 0.02
    flood = river | ((np.abs(xx - size * 0.3) < size * 0.25) & (yy > size * 0.4) & (yy < size * 0.8))
    for name, water in (("before", river), ("after", flood)):
        ds = gdal.GetDriverByName("GTiff").Create(
            str(folder / f"{name}.tif"), size, size, 2, gdal.GDT_Float32, ["TILED=YES", "COMPRESS=DEFLATE"]
        )
        ds.SetGeoTransform((500000, 10, 0, 5100000, 0, -10))
        ds.SetProjection(srs.ExportToWkt())
        for band, (pol, land, wet) in enumerate((("VV", -8.0, -22.0), ("VH", -15.0, -28.0)), start=1):
            values = np.where(water, wet, land) + rng.gamma(4.0, 0.25, (size, size)) * 4 - 4
            ds.GetRasterBand(band).WriteArray(values.astype(np.float32))
            ds.GetRasterBand(band).SetDescription(pol)
        ds = None


class Sampler(threading.Thread):
    """Peak RSS of every process below ``root``, by kind: dask worker, pair process, other."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(root)
        self.peaks: dict[str, float] = {"worker": 0.0, "pair": 0.0, "client": 0.0}
        self.done = False

    def run(self) -> None:
        while not self.done:
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in procs:
                try:
                    line = " ".join(proc.cmdline())
                    rss = proc.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                kind = "pair" if "pair_process" in line else "worker" if "multiprocessing" in line else "client"
                if kind == "worker" and "resource_tracker" in line:
                    continue
                self.peaks[kind] = max(self.peaks[kind], rss)
            time.sleep(0.1)


def measured(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    _out, err = proc.communicate()
    sampler.done = True
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    return time.perf_counter() - started, {k: round(v, 1) for k, v in sampler.peaks.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--out", default="build/bench_cluster.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="changelens-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / ".plugin_path")}
    (ROOT / ".plugin_path").mkdir(exist_ok=True)
    if not (ROOT / ".plugin_path" / "changelens").exists():
        (ROOT / ".plugin_path" / "changelens").symlink_to(ROOT, target_is_directory=True)
    try:
        for i in range(args.pairs):
            write_pair(work / "scenes" / f"pair_{i}", args.size, i)
        inputs = {"INPUT_FOLDER": "scenes", "ALGORITHM": "changelens:sarflood", "OUTPUT_FOLDER": "out"}
        (work / "job.json").write_text(json.dumps({"inputs": inputs}))
        cli = [sys.executable, "-m", "changelens.cli"]
        results: dict[str, object] = {"pairs": args.pairs, "pixels_per_image": args.size**2, "cpus": os.cpu_count()}
        single = work / "single"
        single.mkdir()
        one = [*cli, "sarflood", "--before", work / "scenes/pair_0/before.tif", "--after",
               work / "scenes/pair_0/after.tif", "--output-dir", single, "-q"]  # fmt: skip
        seconds, peaks = measured([str(a) for a in one], env)
        results["single_run"] = {"seconds": round(seconds, 1), "peak_rss_mb": peaks["client"]}
        for workers in (1, 2):
            shutil.rmtree(work / "out", ignore_errors=True)
            seconds, peaks = measured([*cli, "batch", str(work / "job.json"), "--workers", str(workers), "-q"], env)
            results[f"workers_{workers}"] = {
                "seconds": round(seconds, 1),
                "peak_rss_mb": {
                    "dask_worker": peaks["worker"],
                    "pair_process": peaks["pair"],
                    "client": peaks["client"],
                },
            }
        print(json.dumps(results, indent=1))  # noqa: T201 - a benchmark reports on stdout
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
