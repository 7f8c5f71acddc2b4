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

from ..core.errors import CancelledError
from ..core.methods.outputs import (
    EIGHT_CONNECTED,
    FILL_HOLES,
    INCLUDE_BACKGROUND,
    MIN_AREA_M2,
    OUTPUT_POLYGONS,
    OUTPUT_REPORT,
    OUTPUT_REPORT_PDF,
    OUTPUT_STATS,
    SIMPLIFY_TOLERANCE,
    map_output_params,
)
from ..core.outputs.products import MapProduct
from ..core.outputs.report import build_report, write_report
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapResult, PolygonConfig
from ..core.outputs.vectorstyle import qml_categorized
from ..core.runner import MapDestinations, created_now, report_content, reserve_destinations
from .base import optional_output, run_core, style_on_load
from .declared import definition
from .pdf_report import write_pdf_report
from .preview import render_previews

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
        "<b>Minimum mapping unit</b>: regions smaller than this area (m²) merge into their largest neighbour, in "
        "the class raster too, so raster and polygon areas agree. Optional hole filling (then area_ha includes "
        "the holes) and simplification (map units; neighbouring polygons may then overlap slightly).<br>"
        "<b>Area statistics</b>: pixels, area_ha, percent, polygons and mean measure per class (CSV by default); "
        "also in the CLASS_AREAS result (JSON).<br>"
        "<b>Report</b>: one self-contained HTML page with before/after/result maps, legend, area table, "
        f"histogram of {measure_name} with the threshold, inputs, parameters and run time; optionally the same "
        "as an A4 PDF (advanced)."
    )


def add_map_outputs(alg: QgsProcessingAlgorithm, measure_name: str) -> None:
    """Add the polygon, clean-up, statistics and report parameters (and result outputs) to ``alg``.

    The parameters come from the core declarations (:func:`map_output_params`), as on the command line.
    """
    for param in map_output_params(measure_name):
        alg.addParameter(definition(param))
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


def _file_path(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext
) -> str | None:
    value = parameters.get(name)
    if value is None or value == "":
        return None
    return alg.parameterAsFileOutput(parameters, name, context) or None


def _config(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext) -> PolygonConfig:
    return run_core(
        lambda: PolygonConfig(
            min_area_m2=alg.parameterAsDouble(parameters, MIN_AREA_M2, context),
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
    )
    run_core(lambda: reserve_destinations(plan, transaction))
    return plan


def stop_if_cancelled(feedback: QgsProcessingFeedback) -> None:
    """Raise :class:`CancelledError` when the user cancelled (the transaction then keeps nothing)."""
    if feedback is not None and feedback.isCanceled():
        raise CancelledError("The run was cancelled.")


def _write_reports(
    product: MapProduct,
    result: MapResult,
    plan: MapOutputPlan,
    transaction: Transaction,
    started: float,
    feedback: QgsProcessingFeedback,
) -> None:
    """Render the map previews and write the HTML and/or PDF report (staged)."""
    stop_if_cancelled(feedback)
    feedback.setProgressText("Report")
    images = render_previews(product, result.polygons_staged, sum(result.polygon_counts.values()))
    stop_if_cancelled(feedback)
    content = report_content(product, result, plan, transaction, images, time.perf_counter() - started, created_now())
    if plan.report:
        staged = transaction.path_for(plan.report, "report")
        run_core(lambda: write_report(staged, build_report(content)))
        stop_if_cancelled(feedback)
    if plan.pdf:
        staged_pdf = transaction.path_for(plan.pdf, "PDF report")
        run_core(lambda: write_pdf_report(staged_pdf, content, content.created))
        stop_if_cancelled(feedback)


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
        _write_reports(product, result, plan, transaction, started, feedback)
    classes = [c for c in product.scheme.classes if c.value in result.polygonised_classes]
    style_on_load(context, result.polygons, f"{product.title} polygons", qml_categorized(classes))
    style_on_load(context, result.stats_table, f"{product.title} areas", None)
    mapped = sum(float(r["area_ha"]) for r in rows if product.scheme.by_value(int(r["class_id"])).mapped)
    return {
        OUTPUT_POLYGONS: result.polygons,
        OUTPUT_STATS: result.stats_table,
        OUTPUT_REPORT: plan.report,
        OUTPUT_REPORT_PDF: plan.pdf,
        CLASS_AREAS: json.dumps(rows),
        POLYGON_COUNT: sum(result.polygon_counts.values()),
        MAPPED_AREA_HA: mapped,
    }


def log_written(feedback: QgsProcessingFeedback, entries: dict[str, Any]) -> None:
    """After the commit: say where the polygons and reports now are."""
    if entries.get(OUTPUT_POLYGONS):
        feedback.pushInfo(f"{entries[POLYGON_COUNT]} polygons written to {entries[OUTPUT_POLYGONS]}.")
    for name, what in ((OUTPUT_REPORT, "Report"), (OUTPUT_REPORT_PDF, "PDF report")):
        if entries.get(name):
            feedback.pushInfo(f"{what} written to {entries[name]}.")
