"""Benchmark: polygons and statistics from a 10980 x 10980 classified raster with >= 100 000 regions.

    python3 tools/bench_polygonize.py --workdir /tmp/clbench --out build/bench_polygonize.json

Generates (seeded, block by block) a Sentinel-2-tile-sized severity raster with wavy class
patches and its driving measure, then runs the shared output step (polygonize, attributes,
statistics table) in a child process under ``nice -n 10 /usr/bin/time -v`` and records wall
time, CPU time, peak RSS and the number of polygons. Not a test: run it by hand or with
``make bench-polygonize``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the QGIS-free ``core`` package only

from core.methods.burn import SEVERITY  # noqa: E402
from core.outputs.products import MapProduct  # noqa: E402
from core.outputs.stats import ClassStats  # noqa: E402
from core.outputs.vectorize import MapOutputs, make_map_outputs  # noqa: E402

gdal.UseExceptions()
SIZE_PX = 10980
CELL_PX = 20
CLASSES = np.array([3, 3, 3, 3, 4, 5, 6, 7, 4, 7], np.uint8)  # 40 % unburned background


def generate(folder: Path, size: int = SIZE_PX, seed: int = 42) -> tuple[str, str]:
    """Write the class raster (with colour table) and a Float32 measure, 256 rows at a time."""
    rng = np.random.default_rng(seed)
    cells = size // CELL_PX + 2
    cell_class = CLASSES[rng.integers(0, len(CLASSES), size=(cells + 1, cells + 1))]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    options = ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=YES", "NUM_THREADS=2"]
    paths = (str(folder / "classes.tif"), str(folder / "measure.tif"))
    drv = gdal.GetDriverByName("GTiff")
    cls_ds = drv.Create(paths[0], size, size, 1, gdal.GDT_Byte, options)
    mea_ds = drv.Create(paths[1], size, size, 1, gdal.GDT_Float32, options + ["PREDICTOR=3"])
    for ds in (cls_ds, mea_ds):
        ds.SetGeoTransform((300000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0))
        ds.SetProjection(srs.ExportToWkt())
    band = cls_ds.GetRasterBand(1)
    band.SetNoDataValue(0)
    table = gdal.ColorTable()
    for info in SEVERITY.classes:
        table.SetColorEntry(info.value, (*info.rgb(), 255))
    band.SetRasterColorTable(table)
    mea_ds.GetRasterBand(1).SetNoDataValue(float("nan"))
    xs = np.arange(size, dtype=np.float32)
    for row in range(0, size, 256):
        ys = np.arange(row, min(row + 256, size), dtype=np.float32)[:, None]
        cx = ((xs[None, :] + 7 * np.sin(ys / 6.0)) // CELL_PX + 1).astype(np.intp)
        cy = ((ys + 7 * np.cos(xs[None, :] / 8.0)) // CELL_PX + 1).astype(np.intp)
        classes = cell_class[np.clip(cy, 0, cells), np.clip(cx, 0, cells)]
        band.WriteArray(classes, 0, row)
        measure = (classes.astype(np.float32) - 3.0) * 0.17 + 0.05 * np.sin(xs[None, :] / 9.0)
        mea_ds.GetRasterBand(1).WriteArray(measure, 0, row)
    cls_ds = mea_ds = None
    return paths


def run(folder: Path) -> dict[str, object]:
    """The measured step: the same core call every algorithm makes."""
    classes, measure = str(folder / "classes.tif"), str(folder / "measure.tif")
    product = MapProduct("bench", classes, SEVERITY, ClassStats(SEVERITY), measure, "dNBR", 0.099)
    started = time.perf_counter()
    result = make_map_outputs(product, MapOutputs(str(folder / "polygons.gpkg"), str(folder / "areas.csv")))
    return {"seconds": time.perf_counter() - started, "polygons": sum(result.polygon_counts.values())}


def _time_v(stderr: str, label: str) -> str:
    match = re.search(rf"{re.escape(label)}: (.+)", stderr)
    return match.group(1).strip() if match else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", default="/tmp/changelens-bench-polygonize")
    parser.add_argument("--out", default=str(ROOT / "build" / "bench_polygonize.json"))
    parser.add_argument("--size", type=int, default=SIZE_PX)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = Path(args.workdir)
    if args.child:
        sys.stdout.write(json.dumps(run(folder)) + "\n")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("polygons.gpkg", "areas.csv"):
        (folder / name).unlink(missing_ok=True)
    started = time.perf_counter()
    generate(folder, args.size)
    generated_s = time.perf_counter() - started
    cmd = ["nice", "-n", "10", "/usr/bin/time", "-v", sys.executable, __file__, "--child", "--workdir", str(folder)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    report = {
        "raster_px": f"{args.size} x {args.size}",
        "generate_s": round(generated_s, 1),
        "polygons": child["polygons"],
        "make_map_outputs_s": round(child["seconds"], 1),
        "wall_clock": _time_v(proc.stderr, "Elapsed (wall clock) time (h:mm:ss or m:ss)"),
        "user_s": float(_time_v(proc.stderr, "User time (seconds)") or 0),
        "system_s": float(_time_v(proc.stderr, "System time (seconds)") or 0),
        "peak_rss_mb": round(int(_time_v(proc.stderr, "Maximum resident set size (kbytes)") or 0) / 1024, 1),
        "polygons_gpkg_mb": round(os.path.getsize(folder / "polygons.gpkg") / 2**20, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
