"""The summary table of runs over many scene pairs: class areas of a written raster, one row per class and pair,
written as CSV."""

from __future__ import annotations

import csv
from typing import Sequence

import numpy as np
from osgeo import gdal

from .batch import ScenePair
from .errors import InputError, OutputError
from .io.grid import grid_of, pixel_area_rows_m2
from .io.raster import open_raster
from .io.windows import block_windows
from .progress import Progress, no_progress, report

_BLOCK_ROWS = 256

# New columns go at the end, so that the positions of the existing ones stay.
SUMMARY_FIELDS = (
    "pair",
    "status",
    "class_id",
    "class",
    "pixels",
    "area_ha",
    "percent",
    "seconds",
    "folder",
    "error",
    "before",
    "after",
)


def is_classified(path: str) -> bool:
    """Whether a raster looks like a class map: one integer band with a colour table or class names."""
    try:
        ds = open_raster(path)
    except InputError:
        return False
    band = ds.GetRasterBand(1)
    integer = band.DataType in (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16)
    return integer and (band.GetColorTable() is not None or bool(band.GetCategoryNames()))


def class_areas(path: str, progress: Progress = no_progress) -> list[dict[str, object]]:
    """Pixels, hectares and percent per class value of band 1 of ``path``, no data excluded.

    Reads full-width strips so memory stays bounded; pixel areas are exact on the ellipsoid
    for geographic CRSs. Class names come from the raster's category names when present.
    """
    ds = open_raster(path)
    band = ds.GetRasterBand(1)
    if band.DataType not in (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16):
        raise InputError(f"'{path}' is not a class raster (integer band expected).")
    grid = grid_of(ds)
    nodata = band.GetNoDataValue()
    names = band.GetCategoryNames() or []
    pixels: dict[int, int] = {}
    area_m2: dict[int, float] = {}
    windows = list(block_windows(grid.width_px, grid.height_px, grid.width_px, _BLOCK_ROWS))
    for i, window in enumerate(windows):
        values = band.ReadAsArray(window.col_off, window.row_off, window.width, window.height).astype(np.int64)
        row_area = pixel_area_rows_m2(grid, window.row_off, window.height)
        weights = np.broadcast_to(row_area[:, None], values.shape)
        keep = values != nodata if nodata is not None else np.ones(values.shape, bool)
        found, inverse = np.unique(values[keep], return_inverse=True)
        counts = np.bincount(inverse, minlength=len(found))
        sums = np.bincount(inverse, weights=weights[keep], minlength=len(found))
        for value, count, m2 in zip(found.tolist(), counts.tolist(), sums.tolist()):
            pixels[value] = pixels.get(value, 0) + int(count)
            area_m2[value] = area_m2.get(value, 0.0) + float(m2)
        report(progress, (i + 1) / len(windows))
    total = sum(area_m2.values()) or 1.0
    return [
        {
            "class_id": value,
            "class_name": names[value] if 0 <= value < len(names) and names[value] else str(value),
            "pixels": pixels[value],
            "area_ha": area_m2[value] / 1e4,
            "percent": 100.0 * area_m2[value] / total,
        }
        for value in sorted(pixels)
    ]


def summary_rows(
    pair: ScenePair, status: str, classes: Sequence[dict[str, object]], seconds: float, folder: str, error: str = ""
) -> list[dict[str, object]]:
    """Rows of the summary table for one pair: one per class, or one row when there is none.

    Each row names the pair's source files (``before``, ``after``), so a row can be traced to its
    images even when the pair's name had to change to be a folder name.
    """
    common = {
        "pair": pair.name,
        "status": status,
        "seconds": round(seconds, 2),
        "folder": folder,
        "error": error,
        "before": pair.before,
        "after": pair.after,
    }
    if not classes:
        return [{**common, "class_id": None, "class": "", "pixels": None, "area_ha": None, "percent": None}]
    return [
        {
            **common,
            "class_id": row.get("class_id"),
            "class": row.get("class_name", ""),
            "pixels": row.get("pixels"),
            "area_ha": row.get("area_ha"),
            "percent": row.get("percent"),
        }
        for row in classes
    ]


def write_summary_csv(path: str, rows: Sequence[dict[str, object]]) -> None:
    """Write the summary table as CSV: UTF-8 without a byte-order mark, one header line, empty cells
    for missing values.

    No BOM, so the first column is read as ``pair`` by scripts, ``cut``, R and QGIS alike; a file name
    with bytes that are not UTF-8 is written with backslash escapes rather than failing the run.
    """
    try:
        with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
            writer = csv.DictWriter(handle, fieldnames=SUMMARY_FIELDS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in SUMMARY_FIELDS})
    except OSError as exc:
        raise OutputError(f"The summary table '{path}' cannot be written ({exc}); pick a writable folder.") from exc
