"""Benchmark: dNBR over a generated 10980 x 10980 Sentinel-2 pair, through qgis_process.bin vs gdal_calc.py.

Records wall time and peak RSS (``/usr/bin/time -v``) of both, and writes them under the
``dnbr`` key of the JSON file given with ``--out`` (other benchmarks add their own keys).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from qgis_process_runner import enable_plugin, environment  # noqa: E402

gdal.UseExceptions()


def make_scene(path: Path, size: int, seed: int, burned: bool) -> None:
    """A two-band (B8, B12) uint16 Sentinel-2-like scene, written strip by strip."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), size, size, 2, gdal.GDT_UInt16, options=["TILED=YES", "COMPRESS=NONE", "BIGTIFF=YES"]
    )
    ds.SetGeoTransform((300000.0, 10.0, 0, 5000040.0, 0, -10.0))
    ds.SetProjection(srs.ExportToWkt())
    for i, name in enumerate(("B8", "B12"), start=1):
        ds.GetRasterBand(i).SetDescription(name)
        ds.GetRasterBand(i).SetNoDataValue(0)
    rng = np.random.default_rng(seed)
    strip = 512
    cols = np.arange(size)
    for row in range(0, size, strip):
        h = min(strip, size - row)
        nir = 2500 + 800 * np.sin(cols / 300.0)[None, :] + rng.normal(0, 150, (h, size))
        swir = 1200 + 300 * np.cos(cols / 500.0)[None, :] + rng.normal(0, 80, (h, size))
        if burned:
            rows = row + np.arange(h)[:, None]
            scar = ((rows - size / 2) ** 2 + (cols[None, :] - size / 2) ** 2) < (size / 4) ** 2
            nir = np.where(scar, nir * 0.5, nir)
            swir = np.where(scar, swir * 1.6, swir)
        ds.GetRasterBand(1).WriteArray(np.clip(nir, 1, 65535).astype(np.uint16), 0, row)
        ds.GetRasterBand(2).WriteArray(np.clip(swir, 1, 65535).astype(np.uint16), 0, row)
    ds = None


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``cmd`` under /usr/bin/time -v; return seconds and peak RSS in MB."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{proc.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(rss_kb / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--workdir", default=None, help="folder for the generated rasters (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="changelens-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pre, post = work / "pre.tif", work / "post.tif"
    for path, seed, burned in ((pre, 1, False), (post, 2, True)):
        if not path.exists():
            make_scene(path, args.size, seed, burned)
    env = environment(work / "profile", ROOT / ".plugin_path")
    link = ROOT / ".plugin_path" / "changelens"
    link.parent.mkdir(exist_ok=True)
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    enable_plugin(env)
    ours = timed(
        [
            "qgis_process.bin",
            "run",
            "changelens:burnseverity",
            "--",
            f"PRE={pre}",
            f"POST={post}",
            f"OUTPUT_DNBR={work / 'dnbr.tif'}",
            f"OUTPUT_SEVERITY={work / 'severity.tif'}",
        ],
        env,
    )
    calc = timed(
        [
            "gdal_calc.py",
            "--quiet",
            "--overwrite",
            "-A",
            str(pre),
            "--A_band=1",
            "-B",
            str(pre),
            "--B_band=2",
            "-C",
            str(post),
            "--C_band=1",
            "-D",
            str(post),
            "--D_band=2",
            "--type=Float32",
            "--calc=(A.astype(float)-B)/(A.astype(float)+B)-(C.astype(float)-D)/(C.astype(float)+D)",
            f"--outfile={work / 'dnbr_gdal_calc.tif'}",
        ]
    )
    ref_ds, got_ds = gdal.Open(str(work / "dnbr_gdal_calc.tif")), gdal.Open(str(work / "dnbr.tif"))
    ref = ref_ds.GetRasterBand(1).ReadAsArray(0, 0, 2048, 2048)
    got = got_ds.GetRasterBand(1).ReadAsArray(0, 0, 2048, 2048)
    result = {
        "raster_px": f"{args.size}x{args.size}",
        "changelens_qgis_process": ours,
        "gdal_calc": calc,
        "max_abs_difference_first_2048px": float(np.nanmax(np.abs(ref - got))),
        "cpus": os.cpu_count(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() else {}
    data["dnbr"] = result
    out.write_text(json.dumps(data, indent=2))
    sys.stderr.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
