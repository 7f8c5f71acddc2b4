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

import datetime as dt
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
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
)

from ..core.errors import CancelledError
from ..core.outputs.products import MapProduct
from ..core.outputs.report import ReportContent, build_report, write_report
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapOutputs, MapResult, PolygonConfig
from ..core.outputs.vectorize import check_map_outputs as check_outputs
from ..core.outputs.vectorstyle import qml_categorized
from .base import advanced, optional_output, run_core, style_on_load
from .compat import NUMBER_DOUBLE, SOURCE_VECTOR, SOURCE_VECTOR_POLYGON
from .pdf_report import write_pdf_report
from .preview import render_previews

OUTPUT_POLYGONS = "OUTPUT_POLYGONS"
MIN_AREA_M2 = "MIN_AREA_M2"
FILL_HOLES = "FILL_HOLES"
SIMPLIFY_TOLERANCE = "SIMPLIFY_TOLERANCE"
EIGHT_CONNECTED = "EIGHT_CONNECTED"
INCLUDE_BACKGROUND = "INCLUDE_BACKGROUND"
OUTPUT_STATS = "OUTPUT_STATS"
OUTPUT_REPORT = "OUTPUT_REPORT"
OUTPUT_REPORT_PDF = "OUTPUT_REPORT_PDF"
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
    """Add the polygon, clean-up, statistics and report parameters (and result outputs) to ``alg``."""
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

    @property
    def wanted(self) -> bool:
        """True when anything beyond the class raster's own statistics is asked for."""
        return bool(self.polygons or self.table or self.report or self.pdf or self.config.min_area_m2 > 0)


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


def _config_pairs(config: PolygonConfig) -> tuple[tuple[str, str], ...]:
    return (
        ("Minimum mapping unit", f"{config.min_area_m2:g} m²" if config.min_area_m2 else "off"),
        ("Fill holes", "yes" if config.fill_holes else "no"),
        ("Simplification", f"{config.simplify_tolerance:g} map units" if config.simplify_tolerance else "off"),
        ("Connectivity", "8 (through corners)" if config.eight_connected else "4 (edges only)"),
        ("Background classes as polygons", "yes" if config.include_background else "no"),
    )


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
    outputs = (
        ("Class raster", transaction.final_of(product.class_raster)),
        (product.measure_name or "Measure", transaction.final_of(product.measure_raster or "")),
        ("Polygons", result.polygons),
        ("Area statistics", result.stats_table),
        ("Report", plan.report),
        ("Report (PDF)", plan.pdf),
    )
    created = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    content = ReportContent(
        title=product.title,
        measure_name=product.measure_name,
        scheme=product.scheme,
        rows=tuple(result.rows()),
        polygonised=result.polygonised_classes,
        threshold=product.threshold,
        breaks=product.breaks,
        histogram=result.histogram,
        maps=tuple(images),
        inputs=product.inputs,
        reading=product.reading,
        parameters=product.parameters + _config_pairs(plan.config),
        outputs=tuple((label, path) for label, path in outputs if path),
        seconds_classify=product.seconds,
        seconds_outputs=time.perf_counter() - started,
        polygons_written=bool(result.polygons),
        created=created,
    )
    if plan.report:
        staged = transaction.path_for(plan.report, "report")
        run_core(lambda: write_report(staged, build_report(content)))
        stop_if_cancelled(feedback)
    if plan.pdf:
        staged_pdf = transaction.path_for(plan.pdf, "PDF report")
        run_core(lambda: write_pdf_report(staged_pdf, content, created))
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
