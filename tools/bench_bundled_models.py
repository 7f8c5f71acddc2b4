"""A full Sentinel-2 tile (10980 x 10980 px, 10 m) through each bundled model, end to end with qgis_process.

    python tools/bench_bundled_models.py --out build/bench.json [--size 10980] [--threads 0] [--only burned_s2]

The scene is generated once in ``--workdir``: a before/after pair of 6-band UInt16 images
(B02 B03 B04 B08 B11 B12, DN = reflectance x 10000, tiled, DEFLATE, band-interleaved, like a
user's stack) with a burn scar and bare landslide scars in the after image, and a DEM with
valleys steep enough for the landslide model. Each model runs once as ``qgis_process.bin run
changelens:runmodel`` (start-up, model load, reads, tiles, blending and writes included), timed
from outside with ``/usr/bin/time -v``; minutes, peak RSS and the machine load go under the key
``bundled_models`` of the JSON file ``--out`` (the cards in ``models/`` quote them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_qgis import plugin_env, timed  # noqa: E402

gdal.UseExceptions()
BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
VEGETATION = (300, 600, 350, 3200, 1800, 900)
BURNT = (400, 450, 550, 1200, 2300, 2400)
BARE = (1400, 1500, 1700, 2200, 2800, 2500)
MODELS = {  # model file: does it take the before image, the DEM?
    "burned_s2": (True, False),
    "burned_s2_post": (False, False),
    "burned_s2_refine": (True, False),
    "landslide_s2": (True, True),
}
ROWS_PER_STRIP = 512


def _georeference(ds: gdal.Dataset) -> None:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetGeoTransform((300000.0, 10.0, 0.0, 5000040.0, 0.0, -10.0))
    ds.SetProjection(srs.ExportToWkt())


def write_date(path: Path, size: int, seed: int, after: bool) -> None:
    """One 6-band date; the after date has a burn scar (a disc) and bare scars on the valley sides."""
    options = ["TILED=YES", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=2", "INTERLEAVE=BAND", "BIGTIFF=YES"]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, len(BANDS), gdal.GDT_UInt16, options)
    _georeference(ds)
    rng = np.random.default_rng(seed)
    cols = np.arange(size, dtype=np.float32)
    for row in range(0, size, ROWS_PER_STRIP):
        rows = np.arange(row, min(row + ROWS_PER_STRIP, size), dtype=np.float32)[:, None]
        burn = ((rows - size * 0.35) ** 2 + (cols[None, :] - size * 0.35) ** 2) < (size * 0.15) ** 2
        bare = (np.sin(cols[None, :] / 157.0) * np.sin(rows / 211.0) > 0.93) & (cols[None, :] > size * 0.55)
        texture = 1.0 + 0.15 * np.sin(cols[None, :] / 90.0) * np.cos(rows / 120.0)
        for i in range(len(BANDS)):
            value = VEGETATION[i] * texture + rng.normal(0, 0.04 * VEGETATION[i], (rows.size, size))
            if after:
                value = np.where(burn, BURNT[i] * texture, value)
                value = np.where(bare, BARE[i] * texture, value)
            ds.GetRasterBand(i + 1).WriteArray(np.clip(value, 1, 10000).astype(np.uint16), 0, row)
    for i, name in enumerate(BANDS, start=1):
        ds.GetRasterBand(i).SetDescription(name)
    ds = None


def write_dem(path: Path, size: int) -> None:
    """Elevation in metres: ridges and valleys with slopes from flat to about 35 degrees."""
    options = ["TILED=YES", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=3", "BIGTIFF=YES"]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 1, gdal.GDT_Float32, options)
    _georeference(ds)
    cols = np.arange(size, dtype=np.float32)
    for row in range(0, size, ROWS_PER_STRIP):
        rows = np.arange(row, min(row + ROWS_PER_STRIP, size), dtype=np.float32)[:, None]
        ridges = 220.0 * np.sin(cols[None, :] / 157.0) * np.sin(rows / 211.0) * (cols[None, :] / size)
        ds.GetRasterBand(1).WriteArray((800.0 + ridges + 0.02 * rows).astype(np.float32), 0, row)
    ds = None


def scene(folder: Path, size: int) -> dict[str, str]:
    """The before and after images and the DEM, made when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {key: folder / f"s2_{key}_{size}.tif" for key in ("before", "after", "dem")}
    for key, path in paths.items():
        if not path.exists():
            tmp = path.with_suffix(".partial.tif")
            write_dem(tmp, size) if key == "dem" else write_date(tmp, size, 1 + (key == "after"), key == "after")
            tmp.rename(path)
    return {key: str(path) for key, path in paths.items()}


def run(name: str, files: dict[str, str], args: argparse.Namespace, env: dict[str, str], out: Path) -> dict:
    """One model through ``qgis_process.bin run changelens:runmodel``: wall time, peak RSS, load."""
    two_dates, terrain = MODELS[name]
    image = files["before"] if two_dates else files["after"]
    params = [f"MODEL_FILE={ROOT / 'models' / f'{name}.onnx'}", f"IMAGE={image}", f"THREADS={args.threads}"]
    params += [f"AFTER={files['after']}"] if two_dates else []
    params += [f"DEM={files['dem']}"] if terrain else []
    params += [f"OUTPUT_CLASSES={out / f'{name}_classes.tif'}"]
    params += ["RADIOMETRY=1"]  # generated DN without product metadata: Sentinel-2 DN / 10000, as a user answers
    load = os.getloadavg()
    run = timed(["qgis_process.bin", "run", "changelens:runmodel", "--", *params], env)
    tiles = re.search(r"(\d+) tile\(s\) run through the model, (\d+) skipped", run["output"])
    return {
        "minutes": round(run["seconds"] / 60.0, 2),
        "seconds": run["seconds"],
        "cpu_seconds": run["cpu_seconds"],
        "peak_rss_mb": run["peak_rss_mb"],
        "tiles_run": int(tiles.group(1)) if tiles else None,
        "load_1_5_15_before": [round(v, 2) for v in load],
        "load_1_5_15_after": [round(v, 2) for v in os.getloadavg()],
        "inputs": "before + after + DEM" if terrain else ("before + after" if two_dates else "after image only"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores)")
    parser.add_argument("--workdir", default=str(ROOT / "build" / "bench-data"))
    parser.add_argument("--only", default="", help="comma-separated model names")
    args = parser.parse_args()
    work = Path(args.workdir)
    files = scene(work / "scenes", args.size)
    env = plugin_env(work, "changelens", onnxruntime=True)
    out = work / "out"
    out.mkdir(exist_ok=True)
    only = [m for m in args.only.split(",") if m] or list(MODELS)
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "raster_px": f"{args.size}x{args.size}",
        "threads": args.threads or "onnxruntime default (all cores)",
    }
    for name in only:
        result[name] = run(name, files, args, env, out)
        sys.stdout.write(f"{name}: {result[name]}\n")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() and path.stat().st_size else {}
    data["bundled_models"] = {**data.get("bundled_models", {}), **result} if args.only else result
    path.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
