"""The outputs every classifying method shares, declared once: polygons, clean-up options, table, report.

Processing (``processing/outputs.py``) and the command line (``cli/``) build their parameters
from :func:`map_output_params`, so names, labels, defaults and help cannot drift apart. The
minimum mapping unit in pixels defaults to :data:`DEFAULT_MIN_AREA_PX` for index methods and to
0 for "Run ONNX model" (``min_area_px``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..outputs.cleanup import DEFAULT_MIN_AREA_PX, PolygonConfig
from .declaration import Flag, Number, Param, Text, _number

OUTPUT_POLYGONS = "OUTPUT_POLYGONS"
MIN_AREA_M2 = "MIN_AREA_M2"
MIN_AREA_PIXELS = "MIN_AREA_PIXELS"
FILL_HOLES = "FILL_HOLES"
SIMPLIFY_TOLERANCE = "SIMPLIFY_TOLERANCE"
EIGHT_CONNECTED = "EIGHT_CONNECTED"
INCLUDE_BACKGROUND = "INCLUDE_BACKGROUND"
OUTPUT_STATS = "OUTPUT_STATS"
OUTPUT_REPORT = "OUTPUT_REPORT"
OUTPUT_REPORT_PDF = "OUTPUT_REPORT_PDF"
EVENT_TITLE = "EVENT_TITLE"
BASEMAP = "BASEMAP"


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


@dataclass(frozen=True)
class LayerIn(Param):
    """A map layer drawn in the report: any layer in QGIS, a raster file GDAL reads on the command line."""

    optional: bool = True


def _pixels_help(min_area_px: int) -> str:
    if not min_area_px:
        return (
            "Regions of fewer pixels of the class raster merge into their largest neighbour (0 = off). The "
            "larger of this and MIN_AREA_M2 applies."
        )
    return (
        "Regions of fewer pixels of the class raster merge into their largest neighbour: isolated specks "
        "(noise, co-registration edges) disappear from the map, the polygons and the areas. The larger of this "
        "and MIN_AREA_M2 applies; set both to 0 to keep every pixel. "
        f"{min_area_px} pixels = {min_area_px * 0.04:g} ha at 20 m, {min_area_px * 0.01:g} ha at 10 m."
    )


def map_output_params(measure_name: str, min_area_px: int = DEFAULT_MIN_AREA_PX) -> tuple[Param, ...]:
    """The shared output parameters, in the order every algorithm adds them.

    ``min_area_px`` is the default minimum mapping unit in pixels (models use 0: see ``DEFAULT_MIN_AREA_PX``).
    """
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
        Number(
            MIN_AREA_PIXELS,
            "Minimum mapping unit in pixels (the larger of the two applies; 0 = off)",
            _pixels_help(min_area_px),
            field="min_area_px",
            default=min_area_px,
            minimum=0,
            integer=True,
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
        Text(
            EVENT_TITLE,
            "Event title for the report (empty: from the inputs' names and dates)",
            "The report's title, e.g. the event's name and date. Empty: the inputs' file names (their folder when "
            "the names are plain, like pre.tif) and the acquisition dates read from the products.",
            optional=True,
        ),
        LayerIn(
            BASEMAP,
            "Basemap under the report's result map (any layer)",
            "A layer drawn under the report's result map (a raster file, a project layer, a web map): background "
            "classes become transparent and the mapped classes slightly see-through over it.",
        ),
    )


def polygon_config(values: Mapping[str, Any], min_area_px: int = DEFAULT_MIN_AREA_PX) -> PolygonConfig:
    """The clean-up options from parameter values by name (missing = default; ``min_area_px`` as declared).

    Raises :class:`~changelens.core.errors.ParameterError` with one sentence on a bad value.
    """
    kwargs: dict[str, Any] = {}
    for p in map_output_params("", min_area_px):
        if isinstance(p, Number):
            number = _number(p, values.get(p.name)) or 0
            kwargs[p.field] = int(number) if p.integer else float(number)
        elif isinstance(p, Flag):
            value = values.get(p.name)
            kwargs[p.field] = p.default if value is None else bool(value)
    return PolygonConfig(**kwargs)


def mmu_text(config: PolygonConfig) -> str:
    """The minimum mapping unit as asked: ``500 m² or 4 pixels, whichever is larger``."""
    shown = [f"{config.min_area_m2:g} m²"] if config.min_area_m2 else []
    if config.min_area_px > 1:
        shown.append(f"{config.min_area_px} pixels")
    if not shown:
        return "off"
    return " or ".join(shown) + (", whichever is larger" if len(shown) == 2 else "")


def config_pairs(config: PolygonConfig) -> tuple[tuple[str, str], ...]:
    """The clean-up options as ``(label, value)`` report lines."""
    return (
        ("Minimum mapping unit", mmu_text(config)),
        ("Fill holes", "yes" if config.fill_holes else "no"),
        ("Simplification", f"{config.simplify_tolerance:g} map units" if config.simplify_tolerance else "off"),
        ("Connectivity", "8 (through corners)" if config.eight_connected else "4 (edges only)"),
        ("Background classes as polygons", "yes" if config.include_background else "no"),
    )
