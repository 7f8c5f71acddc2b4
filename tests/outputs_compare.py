"""Compare the outputs of two runs: rasters pixel by pixel, polygons feature by feature, tables, reports."""

from __future__ import annotations

import base64
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr

ROOT = Path(__file__).resolve().parent.parent
CLI_NO_QGIS = (
    "import sys; sys.modules['qgis'] = None; sys.path.insert(0, sys.argv.pop(1)); "
    "from changelens.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run_cli(args: list[str], timeout: float = 300, python: str = sys.executable) -> subprocess.CompletedProcess:
    """``changelens *args`` from the working tree, in a Python where importing QGIS fails."""
    env = {**os.environ, "PYTHONPATH": ""}
    return subprocess.run(
        [python, "-c", CLI_NO_QGIS, str(ROOT / ".plugin_path"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def raster_facts(path: str) -> dict:
    """Everything a raster output carries: pixels, grid, CRS, no data, colours, class names, metadata."""
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1)
    table = band.GetColorTable()
    return {
        "size": (ds.RasterXSize, ds.RasterYSize, ds.RasterCount),
        "geotransform": ds.GetGeoTransform(),
        "projection": ds.GetProjection(),
        "dtype": band.DataType,
        "nodata": repr(band.GetNoDataValue()),  # NaN is never equal to itself
        "colors": [table.GetColorEntry(i) for i in range(table.GetCount())] if table else None,
        "names": band.GetCategoryNames(),
        "description": band.GetDescription(),
        "metadata": band.GetMetadata(),
    }


def assert_same_raster(a: str, b: str) -> None:
    """Pixel-identical rasters with identical grid, CRS, no data, colours and class names (and .qml)."""
    assert raster_facts(a) == raster_facts(b), (a, b)
    pa, pb = gdal.Open(a).ReadAsArray(), gdal.Open(b).ReadAsArray()
    assert pa.dtype == pb.dtype and np.array_equal(pa, pb, equal_nan=pa.dtype.kind == "f"), (a, b)
    qa, qb = os.path.splitext(a)[0] + ".qml", os.path.splitext(b)[0] + ".qml"
    assert os.path.exists(qa) == os.path.exists(qb)
    if os.path.exists(qa):
        assert Path(qa).read_text() == Path(qb).read_text()


def features(path: str) -> list[tuple]:
    """``(attributes, geometry WKT)`` of every feature of the first layer, plus the stored style, sorted."""
    ds = ogr.Open(path)
    layer = ds.GetLayer(0)
    out = []
    for feature in layer:
        attributes = tuple((k, v) for k, v in sorted(feature.items().items()))
        geometry = feature.GetGeometryRef()
        out.append((attributes, geometry.ExportToWkt() if geometry else None))
    styles = ds.GetLayerByName("layer_styles")
    if styles is not None:
        out.append((("styles", tuple(f.GetField("styleQML") for f in styles)), None))
    return sorted(out, key=repr)


def assert_same_vector(a: str, b: str) -> None:
    """The same features (attributes and geometries) and the same stored style."""
    fa, fb = features(a), features(b)
    assert fa == fb and fa, (a, b)


def csv_rows(path: str, drop: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a CSV file, ``drop`` columns removed."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


def report_images(html: str) -> list[bytes]:
    """The embedded PNG previews of a report."""
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)]


def normalised_report(path: str, folder: str) -> str:
    """The report with its previews, time stamp, run times and output folder replaced by placeholders."""
    html = Path(path).read_text(encoding="utf-8")
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "IMAGE", html)
    html = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z+\-0-9]+", "CREATED", html)
    html = re.sub(r"\d+\.\d s|\d+ min \d+ s", "SECONDS", html)
    return html.replace(str(folder), "OUT")
