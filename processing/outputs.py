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

import time
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
)

from ..core.methods.outputs import (
    BASEMAP,
    EVENT_TITLE,
    OUTPUT_POLYGONS,
    OUTPUT_REPORT,
    OUTPUT_REPORT_PDF,
    OUTPUT_STATS,
    map_output_params,
    polygon_config,
)
from ..core.outputs.cleanup import DEFAULT_MIN_AREA_PX
from ..core.outputs.products import MapProduct
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapResult, PolygonConfig
from ..core.outputs.vectorstyle import qml_categorized
from ..core.runner import MapDestinations, reserve_destinations, summary_entries
from .base import optional_output, run_core, style_on_load
from .declared import config_value, definition
from .parameter_help import parameter_help
from .preview import copy_layer
from .report_pages import stop_if_cancelled, write_reports

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
        f"{DEFAULT_MIN_AREA_PX} = {DEFAULT_MIN_AREA_PX * 400 / 1e4:g} ha at 20 m, "
        f"{DEFAULT_MIN_AREA_PX * 100 / 1e4:g} ha at 10 m: specks of at most {DEFAULT_MIN_AREA_PX - 1} pixels) "
        "merge into their largest neighbour, in the class raster too, so raster and polygon areas agree. Optional "
        "hole filling (then area_ha includes the holes) and simplification (map units; neighbouring polygons may "
        "then overlap slightly).<br>"
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

    The parameters come from the core declarations (:func:`map_output_params`), as on the command line;
    ``min_area_px`` is the default minimum mapping unit in pixels (models use 0: see ``DEFAULT_MIN_AREA_PX``).
    """
    for param in map_output_params(measure_name, min_area_px):
        made = definition(param)
        made.setHelp(parameter_help(made, alg.PARAMETER_HELP.get(param.name, "") or param.help))
        alg.addParameter(made)
    alg.addOutput(QgsProcessingOutputString(CLASS_AREAS, "Area per class (JSON)"))
    alg.addOutput(QgsProcessingOutputNumber(POLYGON_COUNT, "Number of polygons"))
    alg.addOutput(QgsProcessingOutputNumber(MAPPED_AREA_HA, "Mapped area, background classes excluded (ha)"))


MapOutputPlan = MapDestinations  # the shared outputs a run was asked for (core's own description)


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


def _basemap(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext) -> Any:
    """A render-safe copy of the basemap layer, or None; a basemap that cannot be opened is an error."""
    if parameters.get(BASEMAP) in (None, ""):
        return None
    layer = copy_layer(alg.parameterAsLayer(parameters, BASEMAP, context))
    if layer is None:
        raise QgsProcessingException(f"The basemap '{parameters[BASEMAP]}' cannot be opened as a map layer.")
    return layer


def _config(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext) -> PolygonConfig:
    """The clean-up options, read as their core declarations say (the algorithm's own default unit in pixels)."""
    declared = [p for p in map_output_params("") if getattr(p, "field", "")]
    values = {p.name: config_value(alg, p, parameters, context) for p in declared}
    return run_core(lambda: polygon_config(values))


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
        optional_output(alg, parameters, OUTPUT_REPORT, context, file=True),
        optional_output(alg, parameters, OUTPUT_REPORT_PDF, context, file=True),
        (alg.parameterAsString(parameters, EVENT_TITLE, context) or "").strip(),
        _basemap(alg, parameters, context),
    )
    run_core(lambda: reserve_destinations(plan, transaction))
    return plan


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
    if plan.report or plan.pdf:
        if not product.class_raster:
            raise QgsProcessingException(
                "The report is made from the class raster: keep the class raster output (a temporary file is fine)."
            )
        write_reports(product, result, plan, transaction, started, feedback)
    classes = [c for c in product.scheme.classes if c.value in result.polygonised_classes]
    style_on_load(context, result.polygons, f"{product.title} polygons", qml_categorized(classes))
    style_on_load(context, result.stats_table, f"{product.title} areas", None)
    return summary_entries(product, result, plan)  # the same entries as the command line's


def log_written(feedback: QgsProcessingFeedback, entries: dict[str, Any]) -> None:
    """After the commit: say where the polygons and reports now are."""
    if entries.get(OUTPUT_POLYGONS):
        feedback.pushInfo(f"{entries[POLYGON_COUNT]} polygons written to {entries[OUTPUT_POLYGONS]}.")
    for name, what in ((OUTPUT_REPORT, "Report"), (OUTPUT_REPORT_PDF, "PDF report")):
        if entries.get(name):
            feedback.pushInfo(f"{what} written to {entries[name]}.")
