"""Compression of real outputs: bytes and encoding CPU time of GeoTIFF codecs on ChangeLens's own rasters.

    python tools/bench_compression.py --out build/bench.json [--data ../shared/data]

Runs the index methods (core, QGIS-free) on the real data beside the project (7 burned fires, 8
Sentinel-1 flood chips, 5 OSCD cities for change vectors and the optical water index), then
writes every float measure and class raster again with each candidate (DEFLATE levels with and
without predictors, ZSTD, LZW, LERC) into memory, tiled as ChangeLens writes, and adds up bytes
and CPU seconds per kind of output. Says which codecs this GDAL has and whether its DEFLATE is
libdeflate. Key ``compression`` of ``--out``; skipped (exit 0) without the data folder.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from osgeo import gdal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from onnx_metadata import core_module  # noqa: E402

gdal.UseExceptions()
CANDIDATES = {
    "DEFLATE1+predictor (previous)": ["COMPRESS=DEFLATE", "ZLEVEL=1", "PRED"],
    "DEFLATE1": ["COMPRESS=DEFLATE", "ZLEVEL=1"],
    "DEFLATE3+predictor": ["COMPRESS=DEFLATE", "ZLEVEL=3", "PRED"],
    "DEFLATE6+predictor": ["COMPRESS=DEFLATE", "ZLEVEL=6", "PRED"],
    "ZSTD1": ["COMPRESS=ZSTD", "ZSTD_LEVEL=1"],
    "ZSTD1+predictor": ["COMPRESS=ZSTD", "ZSTD_LEVEL=1", "PRED"],
    "ZSTD3+predictor": ["COMPRESS=ZSTD", "ZSTD_LEVEL=3", "PRED"],
    "LZW": ["COMPRESS=LZW"],
    "LZW+predictor": ["COMPRESS=LZW", "PRED"],
    "LERC lossless": ["COMPRESS=LERC", "MAX_Z_ERROR=0"],
    "none": [],
}
REPEAT_TILES = 2  # each raster is tiled 2 x 2 so that small chips give measurable times


def outputs(data: Path, folder: Path) -> list[str]:
    """Run the methods on the real cases; the paths of every raster they wrote."""
    pipeline, methods = core_module("pipeline"), core_module("methods")
    request = core_module("methods.request").RunRequest

    def run(method_id: str, images: dict[str, str], keys: tuple[str, ...], tag: str) -> None:
        method = methods.method_by_id(method_id)
        paths = {k: str(folder / f"{method_id}_{tag}_{k}.tif") for k in keys}
        pipeline.run_method(method, request(images, method.build_config({}), paths))

    for event in sorted(glob.glob(str(data / "burned" / "prepost" / "*"))):
        images = {"before": f"{event}/pre.tif", "after": f"{event}/post.tif"}
        run("burnseverity", images, ("dnbr", "severity"), os.path.basename(event))
    for chip in sorted(glob.glob(str(data / "flood" / "sen1floods11" / "*"))):
        run("sarflood", {"after": f"{chip}/S1Hand.tif"}, ("measure", "classes"), os.path.basename(chip))
    for city in sorted(glob.glob(str(data / "oscd" / "*")))[:5]:
        name = os.path.basename(city)
        for method_id, bands, keys in (
            ("cva", ("B02", "B03", "B04", "B08"), ("magnitude", "classes")),
            ("opticalflood", ("B03", "B11"), ("index", "classes")),
        ):
            dates = []
            for date in ("t1", "t2"):
                vrt = str(folder / f"{name}_{date}_{method_id}.vrt")
                ds = gdal.BuildVRT(vrt, [f"{city}/{date}/{b}.tif" for b in bands], separate=True, resolution="highest")
                for i, band in enumerate(bands, start=1):
                    ds.GetRasterBand(i).SetDescription(band.replace("B0", "B"))
                ds = None
                dates.append(vrt)
            run(method_id, {"before": dates[0], "after": dates[1]}, keys, name)
    return sorted(glob.glob(str(folder / "*.tif")))


def encode(array: np.ndarray, options: list[str]) -> tuple[int, float]:
    """Bytes and CPU seconds of writing ``array`` (2-D) as a tiled GeoTIFF with ``options``, in memory."""
    data_type = gdal.GDT_Float32 if array.dtype == np.float32 else gdal.GDT_Byte
    predictor = "PREDICTOR=3" if data_type == gdal.GDT_Float32 else "PREDICTOR=2"
    options = [predictor if o == "PRED" else o for o in options]
    path = "/vsimem/changelens-compression.tif"
    started = time.process_time()
    ds = gdal.GetDriverByName("GTiff").Create(
        path, array.shape[1], array.shape[0], 1, data_type, ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", *options]
    )
    ds.GetRasterBand(1).WriteArray(array)
    ds = None
    seconds = time.process_time() - started
    size = gdal.VSIStatL(path).size
    gdal.Unlink(path)
    return size, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    data = Path(args.data)
    if not data.is_dir():
        sys.stderr.write(f"No data folder at {data}: compression benchmark skipped.\n")
        return 0
    have = gdal.GetDriverByName("GTiff").GetMetadataItem("DMD_CREATIONOPTIONLIST") or ""
    totals: dict[str, dict[str, list[float]]] = {kind: defaultdict(lambda: [0, 0.0]) for kind in ("float32", "byte")}
    counts = {"float32": 0, "byte": 0}
    with tempfile.TemporaryDirectory(prefix="changelens-compression-") as folder:
        paths = outputs(data, Path(folder))
        for path in paths:
            array = np.tile(gdal.Open(path).ReadAsArray(), (REPEAT_TILES, REPEAT_TILES))
            kind = "float32" if array.dtype == np.float32 else "byte"
            counts[kind] += 1
            for name, options in CANDIDATES.items():
                codec = next((o.split("=")[1] for o in options if o.startswith("COMPRESS=")), "")
                if codec and f"<Value>{codec}</Value>" not in have:
                    continue
                size, seconds = encode(array, options)
                totals[kind][name][0] += size
                totals[kind][name][1] += seconds
    result: dict = {
        "gdal": gdal.__version__,
        "libdeflate_loaded": _libdeflate_loaded(),
        "codecs": [c for c in ("DEFLATE", "ZSTD", "LZW", "LERC", "LZMA", "WEBP") if f"<Value>{c}</Value>" in have],
        "rasters": counts,
        "note": "each raster tiled 2 x 2; bytes and CPU seconds summed per kind; ratios against DEFLATE1+predictor",
    }
    for kind, table in totals.items():
        base_size, base_cpu = table["DEFLATE1+predictor (previous)"]
        result[kind] = {
            name: {
                "bytes": int(size),
                "cpu_s": round(cpu, 3),
                "size_ratio": round(size / base_size, 3),
                "cpu_ratio": round(cpu / base_cpu, 3),
            }
            for name, (size, cpu) in table.items()
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(out.read_text()) if out.exists() and out.stat().st_size else {}
    merged["compression"] = result
    out.write_text(json.dumps(merged, indent=2))
    for kind in totals:
        for name, row in result[kind].items():
            sys.stdout.write(f"{kind:7s} {name:30s} size {row['size_ratio']:.3f}  cpu {row['cpu_ratio']:.2f}\n")
    return 0


def _libdeflate_loaded() -> bool | None:
    """Whether libdeflate is loaded in this process (GDAL's DEFLATE then uses it); None off Linux."""
    try:
        with open("/proc/self/maps", encoding="ascii", errors="ignore") as maps:
            return "libdeflate" in maps.read()
    except OSError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
