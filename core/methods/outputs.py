"""The outputs every classifying method shares, declared once: polygons, clean-up options, table, report.

Processing (``processing/outputs.py``) and the command line (``cli/``) build their parameters
from :func:`map_output_params`, so names, labels, defaults and help cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..outputs.vectorize import PolygonConfig
from .declaration import Flag, Number, Param, _number

OUTPUT_POLYGONS = "OUTPUT_POLYGONS"
MIN_AREA_M2 = "MIN_AREA_M2"
FILL_HOLES = "FILL_HOLES"
SIMPLIFY_TOLERANCE = "SIMPLIFY_TOLERANCE"
EIGHT_CONNECTED = "EIGHT_CONNECTED"
INCLUDE_BACKGROUND = "INCLUDE_BACKGROUND"
OUTPUT_STATS = "OUTPUT_STATS"
OUTPUT_REPORT = "OUTPUT_REPORT"
OUTPUT_REPORT_PDF = "OUTPUT_REPORT_PDF"


@dataclass(frozen=True)
class VectorOut(Param):
    """A vector or table file any OGR format writes (by extension); ``geometry`` False for a table."""

    geometry: bool = True
    optional: bool = True
    create_by_default: bool = True
    extension: str = "gpkg"  # the default format of a file named after the output


@dataclass(frozen=True)
class FileOut(Param):
    """A plain file such as the HTML report; ``file_filter`` as Qt file dialogs write it."""

    file_filter: str = ""
    extension: str = ""
    optional: bool = True
    create_by_default: bool = True
    needs_qgis: bool = False  # written with QGIS's own renderer (the PDF report)


def map_output_params(measure_name: str) -> tuple[Param, ...]:
    """The shared output parameters, in the order every algorithm adds them."""
    return (
        VectorOut(
            OUTPUT_POLYGONS,
            f"Polygons (class, area, perimeter, mean {measure_name})",
            "One polygon per connected region of a mapped class with class_id, class_name, pixels, area_ha, "
            "perimeter_m and the mean measure; background classes only when asked.",
        ),
        Number(
            MIN_AREA_M2,
            "Minimum mapping unit (m²; smaller regions merge into their largest neighbour, 0 = off)",
            "Regions smaller than this ground area merge into their largest neighbour, in the class raster too, "
            "so raster and polygon areas agree.",
            field="min_area_m2",
            default=0.0,
            minimum=0.0,
        ),
        Flag(
            FILL_HOLES,
            "Fill holes inside polygons",
            "Polygons without inner holes (area_ha then includes them).",
            True,
            field="fill_holes",
        ),
        Number(
            SIMPLIFY_TOLERANCE,
            "Polygon simplification tolerance (map units; 0 = exact pixel edges)",
            "Douglas-Peucker tolerance for the polygon outlines, in map units.",
            True,
            field="simplify_tolerance",
            default=0.0,
            minimum=0.0,
        ),
        Flag(
            EIGHT_CONNECTED,
            "Connect regions through pixel corners (8-connectivity)",
            "Pixels touching only at a corner belong to the same region.",
            True,
            field="eight_connected",
        ),
        Flag(
            INCLUDE_BACKGROUND,
            "Also make polygons for background classes (e.g. unburned, no change)",
            "Also polygonise the background classes (unburned, no change, not flooded ...).",
            True,
            field="include_background",
        ),
        VectorOut(
            OUTPUT_STATS,
            "Area statistics table",
            "Pixels, area_ha, percent, polygons and mean measure per class.",
            geometry=False,
            extension="csv",
        ),
        FileOut(
            OUTPUT_REPORT,
            "Report (HTML)",
            "One self-contained HTML page: maps, legend, area table, histogram, inputs, parameters.",
            file_filter="HTML files (*.html)",
            extension="html",
        ),
        FileOut(
            OUTPUT_REPORT_PDF,
            "Report (PDF, A4)",
            "The report as an A4 PDF.",
            True,
            file_filter="PDF files (*.pdf)",
            extension="pdf",
            create_by_default=False,
            needs_qgis=True,
        ),
    )


def polygon_config(values: Mapping[str, Any]) -> PolygonConfig:
    """The clean-up options from parameter values by name (missing = default).

    Raises :class:`~changelens.core.errors.ParameterError` with one sentence on a bad value.
    """
    kwargs: dict[str, Any] = {}
    for p in map_output_params(""):
        if isinstance(p, Number):
            kwargs[p.field] = float(_number(p, values.get(p.name)) or 0.0)
        elif isinstance(p, Flag):
            value = values.get(p.name)
            kwargs[p.field] = p.default if value is None else bool(value)
    return PolygonConfig(**kwargs)


def config_pairs(config: PolygonConfig) -> tuple[tuple[str, str], ...]:
    """The clean-up options as ``(label, value)`` report lines."""
    return (
        ("Minimum mapping unit", f"{config.min_area_m2:g} m²" if config.min_area_m2 else "off"),
        ("Fill holes", "yes" if config.fill_holes else "no"),
        ("Simplification", f"{config.simplify_tolerance:g} map units" if config.simplify_tolerance else "off"),
        ("Connectivity", "8 (through corners)" if config.eight_connected else "4 (edges only)"),
        ("Background classes as polygons", "yes" if config.include_background else "no"),
    )
