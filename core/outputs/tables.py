"""Attribute tables (no geometry) written as CSV or any OGR table format (GeoPackage, XLSX, ODS, DBF)."""

from __future__ import annotations

import csv
import os
from typing import Mapping, Sequence

from osgeo import ogr

from ..errors import OutputError

_TABLE_DRIVERS = {".gpkg": "GPKG", ".xlsx": "XLSX", ".ods": "ODS", ".dbf": "ESRI Shapefile", ".sqlite": "SQLite"}


def _kind(values: Sequence[object]) -> int:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) or isinstance(v, int) for v in present):
        return ogr.OFTInteger64
    if present and all(isinstance(v, (int, float)) for v in present):
        return ogr.OFTReal
    return ogr.OFTString


def check_table_path(path: str) -> None:
    """Raise :class:`OutputError` unless ``path`` has a table format this module writes."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in ("", ".csv", ".txt") and ext not in _TABLE_DRIVERS:
        raise OutputError(f"Cannot write a table to '{path}': use .csv, .gpkg, .xlsx or .ods.")


def write_table(path: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Write ``rows`` (same keys in each) to ``path``; the format follows the extension (CSV by default)."""
    if not rows:
        raise OutputError(f"There are no rows to write to '{path}'.")
    columns = list(rows[0])
    ext = os.path.splitext(path)[1].lower()
    if ext in ("", ".csv", ".txt"):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row[c] is None else _text(row[c]) for c in columns])
        # A .csvt next to the CSV tells QGIS (OGR) the column types, so numbers sort as numbers.
        names = {ogr.OFTInteger64: "Integer64", ogr.OFTReal: "Real", ogr.OFTString: "String"}
        with open(os.path.splitext(path)[0] + ".csvt", "w", encoding="utf-8") as handle:
            handle.write(",".join(f'"{names[_kind([row[c] for row in rows])]}"' for c in columns) + "\n")
        return
    check_table_path(path)
    ds = ogr.GetDriverByName(_TABLE_DRIVERS[ext]).CreateDataSource(path)
    layer = ds.CreateLayer(os.path.splitext(os.path.basename(path))[0], geom_type=ogr.wkbNone)
    for column in columns:
        layer.CreateField(ogr.FieldDefn(column, _kind([row[column] for row in rows])))
    for row in rows:
        feature = ogr.Feature(layer.GetLayerDefn())
        for column in columns:
            if row[column] is not None:
                feature.SetField(column, row[column])
        layer.CreateFeature(feature)
    ds = None


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else repr(value)
    return str(value)
