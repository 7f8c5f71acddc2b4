"""Time a bundled model end to end through the plugin's inference on an N x N two-date raster and
extrapolate to a full 10980 x 10980 Sentinel-2 tile (run with the test venv):

    /work/main/.venv/bin/python training/bench_tile.py models/burned_s2.onnx --size 2048 --threads 2
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, osr

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from core.models.inference import InferenceConfig, InferenceOutputs, run_model  # noqa: E402
from core.models.meta import read_model_metadata  # noqa: E402

gdal.UseExceptions()


def write(path: str, size: int, bands: list[str], rng: np.random.Generator, dem: bool = False) -> str:
    kind = gdal.GDT_Float32 if dem else gdal.GDT_UInt16
    ds = gdal.GetDriverByName("GTiff").Create(path, size, size, len(bands), kind, ["TILED=YES"])
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 4500000.0, 0.0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    for i, name in enumerate(bands, start=1):
        band = ds.GetRasterBand(i)
        band.SetDescription(name)
        if dem:  # hills: a few hundred metres of relief, slopes 0-40 degrees
            yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
            band.WriteArray(500 + 150 * np.sin(xx / 40.0) * np.cos(yy / 55.0) + 0.01 * yy)
        else:
            band.WriteArray(rng.integers(500, 4000, (size, size), dtype=np.uint16))
    ds = None
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    meta = read_model_metadata(args.model)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as work:
        images = [write(f"{work}/d{i}.tif", args.size, [b.band for b in meta.bands], rng) for i in range(meta.dates)]
        dem = write(f"{work}/dem.tif", args.size, ["DEM"], rng, dem=True) if meta.terrain else None
        t0 = time.perf_counter()
        run_model(
            args.model,
            images,
            InferenceOutputs(classes=f"{work}/out.tif"),
            InferenceConfig(threads=args.threads),
            dem=dem,  # terrain models: the slope computation is part of the time
        )
        seconds = time.perf_counter() - t0
    full = seconds * (10980 / args.size) ** 2
    print(f"{pathlib.Path(args.model).name}: {args.size}^2 px in {seconds:.1f} s -> 10980^2 px ~ {full / 60:.1f} min")


if __name__ == "__main__":
    main()
