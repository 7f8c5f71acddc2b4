"""Shared outputs of every classifying algorithm: polygons, clean-up, statistics table and report.

An algorithm calls :func:`add_map_outputs` in ``initAlgorithm``; in ``processAlgorithm`` it opens
the run's :class:`Transaction`, calls :func:`plan_map_outputs` (checks the options and reserves
every destination before any pixel is read), runs its core method into the same transaction,
then :func:`write_map_outputs` with the :class:`MapProduct` it produced. Everything is staged and
moves into place when the transaction commits: a cancel or a failure at any stage keeps nothing.
Files carry their styles (GeoPackage ``layer_styles``, ``.qml`` sidecars), so ``qgis_process``
runs are styled too; desktop runs also get their loaded layers named and styled by post-processors.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from ..core.outputs.products import MapProduct
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import DEFAULT_MIN_AREA_PX, MapOutputs, MapResult, PolygonConfig
from ..core.outputs.vectorize import check_map_outputs as check_outputs
from ..core.outputs.vectorstyle import qml_categorized
from .base import advanced, optional_output, run_core, style_on_load
from .compat import NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR, SOURCE_VECTOR_POLYGON
from .parameter_help import parameter_help
from .preview import copy_layer
from .report_pages import stop_if_cancelled, write_reports

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
CLASS_AREAS = "CLASS_AREAS"
POLYGON_COUNT = "POLYGON_COUNT"
MAPPED_AREA_HA = "MAPPED_AREA_HA"


def map_outputs_help(measure_name: str) -> str:
    """The help paragraph every algorithm appends to describe the shared outputs."""
    return (
        "<br><br><b>Polygons</b>: one feature per connected region of a mapped class (background classes only "
        f"when asked) with class_id, class_name, pixels, area_ha (ellipsoidal for geographic CRSs), perimeter_m "
        f"and the mean {measure_name} inside (mean_...); GeoPackage by default (its style is stored in the "
        "file), any OGR format by extension (.shp, .geojson, .fgb ... with a .qml style next to it).<br>"
        "<b>Minimum mapping unit</b>: regions smaller than this area (m²) or than this many pixels (default "
        f"{DEFAULT_MIN_AREA_PX}: specks of one to three pixels; 0.16 ha at 20 m, 0.04 ha at 10 m) merge into their "
        "largest neighbour, in the class raster too, so raster and polygon areas agree. Optional hole filling "
        "(then area_ha includes the holes) and simplification (map units; neighbouring polygons may then overlap "
        "slightly).<br>"
        "<b>Area statistics</b>: pixels, area_ha, percent, polygons and mean measure per class (CSV by default); "
        "also in the CLASS_AREAS result (JSON).<br>"
        "<b>Report</b>: one self-contained HTML page: the event title (EVENT_TITLE, else from the inputs' names "
        "and dates), each image's sensor/product and acquisition date, the location (centre, extent in km, CRS), "
        "a page-wide result map with scale bar, north arrow and coordinate ticks (over BASEMAP, any layer, when "
        "given), true-colour before/after previews, legend, area and polygons per class, histogram of "
        f"{measure_name} with the threshold, the bands, conversions and masks used, parameters and run time; "
        "optionally the same as an A4 PDF (advanced)."
    )


def add_map_outputs(alg: QgsProcessingAlgorithm, measure_name: str, min_area_px: int = DEFAULT_MIN_AREA_PX) -> None:
    """Add the polygon, clean-up, statistics and report parameters (and result outputs) to ``alg``.

    ``min_area_px`` is the default minimum mapping unit in pixels (models use 0: see ``DEFAULT_MIN_AREA_PX``).
    """
    alg.addParameter(
        QgsProcessingParameterVectorDestination(
            OUTPUT_POLYGONS,
            f"Polygons (class, area, perimeter, mean {measure_name})",
            SOURCE_VECTOR_POLYGON,
            optional=True,
            createByDefault=True,
        )
    )
    mmu = QgsProcessingParameterNumber(
        MIN_AREA_M2,
        "Minimum mapping unit (m²; smaller regions merge into their largest neighbour, 0 = off)",
        NUMBER_DOUBLE,
        0.0,
        minValue=0.0,
    )
    alg.addParameter(mmu)
    pixels = QgsProcessingParameterNumber(
        MIN_AREA_PIXELS,
        "Minimum mapping unit in pixels (the larger of the two applies; 0 = off)",
        NUMBER_INTEGER,
        min_area_px,
        minValue=0,
    )
    pixels.setHelp(
        parameter_help(
            pixels,
            "Regions of fewer pixels of the class raster merge into their largest neighbour: isolated specks "
            "(noise, co-registration edges) disappear from the map, the polygons and the areas. The larger of this "
            "and MIN_AREA_M2 applies; set both to 0 to keep every pixel. "
            f"{min_area_px} pixels = {min_area_px * 0.04:g} ha at 20 m, {min_area_px * 0.01:g} ha at 10 m."
            if min_area_px
            else "Regions of fewer pixels of the class raster merge into their largest neighbour (0 = off). The "
            "larger of this and MIN_AREA_M2 applies.",
        )
    )
    alg.addParameter(pixels)
    advanced_params = [
        QgsProcessingParameterBoolean(FILL_HOLES, "Fill holes inside polygons", False),
        QgsProcessingParameterNumber(
            SIMPLIFY_TOLERANCE,
            "Polygon simplification tolerance (map units; 0 = exact pixel edges)",
            NUMBER_DOUBLE,
            0.0,
            minValue=0.0,
        ),
        QgsProcessingParameterBoolean(EIGHT_CONNECTED, "Connect regions through pixel corners (8-connectivity)", False),
        QgsProcessingParameterBoolean(
            INCLUDE_BACKGROUND, "Also make polygons for background classes (e.g. unburned, no change)", False
        ),
    ]
    advanced(alg, advanced_params)
    alg.addParameter(
        QgsProcessingParameterVectorDestination(
            OUTPUT_STATS, "Area statistics table", SOURCE_VECTOR, optional=True, createByDefault=True
        )
    )
    alg.addParameter(
        QgsProcessingParameterFileDestination(
            OUTPUT_REPORT, "Report (HTML)", "HTML files (*.html)", optional=True, createByDefault=True
        )
    )
    pdf = QgsProcessingParameterFileDestination(
        OUTPUT_REPORT_PDF, "Report (PDF, A4)", "PDF files (*.pdf)", optional=True, createByDefault=False
    )
    advanced(alg, [pdf])
    title = QgsProcessingParameterString(
        EVENT_TITLE, "Event title for the report (empty: from the inputs' names and dates)", "", optional=True
    )
    title.setHelp(
        parameter_help(
            title,
            "The report's title, e.g. the event's name and date. Empty: the inputs' file names (their folder when "
            "the names are plain, like pre.tif) and the acquisition dates read from the products.",
        )
    )
    basemap = QgsProcessingParameterMapLayer(
        BASEMAP, "Basemap under the report's result map (any layer)", optional=True
    )
    basemap.setHelp(
        parameter_help(
            basemap,
            "A layer drawn under the report's result map (a raster file, a project layer, a web map): background "
            "classes become transparent and the mapped classes slightly see-through over it.",
        )
    )
    alg.addParameter(title)
    alg.addParameter(basemap)
    alg.addOutput(QgsProcessingOutputString(CLASS_AREAS, "Area per class (JSON)"))
    alg.addOutput(QgsProcessingOutputNumber(POLYGON_COUNT, "Number of polygons"))
    alg.addOutput(QgsProcessingOutputNumber(MAPPED_AREA_HA, "Mapped area, background classes excluded (ha)"))


@dataclass(frozen=True)
class MapOutputPlan:
    """The shared outputs a run was asked for (final paths; None = skipped) and the clean-up options."""

    config: PolygonConfig
    polygons: str | None = None
    table: str | None = None
    report: str | None = None
    pdf: str | None = None
    event_title: str = ""
    basemap: Any = None  # a copy of the chosen layer, safe to render from the run's thread

    @property
    def wanted(self) -> bool:
        """True when anything beyond the class raster's own statistics is asked for."""
        return bool(self.polygons or self.table or self.report or self.pdf or self.config.sieves)


def _destination(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext
) -> str | None:
    path = optional_output(alg, parameters, name, context)
    if path is None:
        return None
    if path.startswith("memory:") or "|" in path or path.startswith(("ogr:", "postgres:", "postgis:")):
        raise QgsProcessingException(
            f"'{path}' cannot be written by ChangeLens: save the {name.lower().replace('_', ' ')} to a file "
            "(.gpkg, .shp, .geojson, .csv ...)."
        )
    return path


def _file_path(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext
) -> str | None:
    value = parameters.get(name)
    if value is None or value == "":
        return None
    return alg.parameterAsFileOutput(parameters, name, context) or None


def _basemap(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext) -> Any:
    """A render-safe copy of the basemap layer, or None; a basemap that cannot be opened is an error."""
    if parameters.get(BASEMAP) in (None, ""):
        return None
    layer = copy_layer(alg.parameterAsLayer(parameters, BASEMAP, context))
    if layer is None:
        raise QgsProcessingException(f"The basemap '{parameters[BASEMAP]}' cannot be opened as a map layer.")
    return layer


def _config(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext) -> PolygonConfig:
    return run_core(
        lambda: PolygonConfig(
            min_area_m2=alg.parameterAsDouble(parameters, MIN_AREA_M2, context),
            min_area_px=alg.parameterAsInt(parameters, MIN_AREA_PIXELS, context),
            fill_holes=alg.parameterAsBoolean(parameters, FILL_HOLES, context),
            simplify_tolerance=alg.parameterAsDouble(parameters, SIMPLIFY_TOLERANCE, context),
            eight_connected=alg.parameterAsBoolean(parameters, EIGHT_CONNECTED, context),
            include_background=alg.parameterAsBoolean(parameters, INCLUDE_BACKGROUND, context),
        )
    )


def plan_map_outputs(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext, transaction: Transaction
) -> MapOutputPlan:
    """Check the clean-up options and reserve the polygon, table and report destinations in ``transaction``.

    Runs before any pixel is read: a missing or read-only folder, an unknown format or two
    outputs on one path fail here with one sentence, and nothing is written.
    """
    plan = MapOutputPlan(
        _config(alg, parameters, context),
        _destination(alg, parameters, OUTPUT_POLYGONS, context),
        _destination(alg, parameters, OUTPUT_STATS, context),
        _file_path(alg, parameters, OUTPUT_REPORT, context),
        _file_path(alg, parameters, OUTPUT_REPORT_PDF, context),
        (alg.parameterAsString(parameters, EVENT_TITLE, context) or "").strip(),
        _basemap(alg, parameters, context),
    )
    run_core(lambda: check_outputs(MapOutputs(plan.polygons, plan.table)))
    for path, label in (
        (plan.polygons, "polygons"),
        (plan.table, "area statistics table"),
        (plan.report, "report"),
        (plan.pdf, "PDF report"),
    ):
        if path:
            run_core(lambda path=path, label=label: transaction.reserve(path, label))
    return plan


def _mmu_text(config: PolygonConfig) -> str:
    """The minimum mapping unit as asked: ``500 m² or 4 pixels, whichever is larger``."""
    shown = [f"{config.min_area_m2:g} m²"] if config.min_area_m2 else []
    if config.min_area_px > 1:
        shown.append(f"{config.min_area_px} pixels")
    if not shown:
        return "off"
    return " or ".join(shown) + (", whichever is larger" if len(shown) == 2 else "")


def _config_pairs(config: PolygonConfig) -> tuple[tuple[str, str], ...]:
    return (
        ("Minimum mapping unit", _mmu_text(config)),
        ("Fill holes", "yes" if config.fill_holes else "no"),
        ("Simplification", f"{config.simplify_tolerance:g} map units" if config.simplify_tolerance else "off"),
        ("Connectivity", "8 (through corners)" if config.eight_connected else "4 (edges only)"),
        ("Background classes as polygons", "yes" if config.include_background else "no"),
    )


def finish_map_outputs(
    plan: MapOutputPlan,
    context: QgsProcessingContext,
    feedback: QgsProcessingFeedback,
    product: MapProduct,
    result: MapResult,
    transaction: Transaction,
) -> dict[str, Any]:
    """Write the reports of ``product`` into ``transaction`` and return the shared result entries.

    ``result`` is what :func:`changelens.core.pipeline.run_and_map` (or ``make_map_outputs``)
    measured. Raises ``QgsProcessingException`` on failure or cancel; the caller's transaction
    then removes every staged file.
    """
    started = time.perf_counter()
    stop_if_cancelled(feedback)
    if (plan.polygons or plan.report or plan.pdf) and not product.measure_raster:
        feedback.pushInfo(
            f"The {product.measure_name or 'driving measure'} output was skipped: polygons and the report "
            "have no mean values or histogram. Keep that output to get them."
        )
    rows = result.rows()
    if plan.report or plan.pdf:
        if not product.class_raster:
            raise QgsProcessingException(
                "The report is made from the class raster: keep the class raster output (a temporary file is fine)."
            )
        write_reports(product, result, plan, transaction, started, feedback, _config_pairs(plan.config))
    classes = [c for c in product.scheme.classes if c.value in result.polygonised_classes]
    style_on_load(context, result.polygons, f"{product.title} polygons", qml_categorized(classes))
    style_on_load(context, result.stats_table, f"{product.title} areas", None)
    mapped = sum(float(r["area_ha"]) for r in rows if product.scheme.by_value(int(r["class_id"])).mapped)
    return {
        OUTPUT_POLYGONS: result.polygons,
        OUTPUT_STATS: result.stats_table,
        OUTPUT_REPORT: plan.report,
        OUTPUT_REPORT_PDF: plan.pdf,
        CLASS_AREAS: json.dumps([{k: _finite(v) for k, v in row.items()} for row in rows]),
        POLYGON_COUNT: sum(result.polygon_counts.values()),
        MAPPED_AREA_HA: mapped if math.isfinite(mapped) else None,  # no georeferencing: areas unknown
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: an unknown area becomes null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def log_written(feedback: QgsProcessingFeedback, entries: dict[str, Any]) -> None:
    """After the commit: say where the polygons and reports now are."""
    if entries.get(OUTPUT_POLYGONS):
        feedback.pushInfo(f"{entries[POLYGON_COUNT]} polygons written to {entries[OUTPUT_POLYGONS]}.")
    for name, what in ((OUTPUT_REPORT, "Report"), (OUTPUT_REPORT_PDF, "PDF report")):
        if entries.get(name):
            feedback.pushInfo(f"{what} written to {entries[name]}.")
