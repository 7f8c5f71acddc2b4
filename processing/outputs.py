"""Shared outputs of every classifying algorithm: polygons, clean-up, statistics table and report.

An algorithm calls :func:`add_map_outputs` in ``initAlgorithm`` and, after writing its class
raster, :func:`write_map_outputs` with the :class:`MapProduct` it produced. Files carry their
styles (GeoPackage ``layer_styles``, ``.qml`` sidecars), so ``qgis_process`` runs are styled
too; desktop runs also get their loaded layers named and styled by post-processors.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
)

from ..core.outputs.products import MapProduct
from ..core.outputs.report import ReportContent, build_report, write_report
from ..core.outputs.vectorize import MapOutputs, MapResult, PolygonConfig, make_map_outputs
from ..core.outputs.vectorize import check_map_outputs as check_outputs
from ..core.outputs.vectorstyle import qml_categorized
from .base import feedback_log, feedback_progress, optional_output, run_core, style_on_load
from .common import advanced
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
            QgsProcessing.TypeVectorPolygon,
            optional=True,
            createByDefault=True,
        )
    )
    mmu = QgsProcessingParameterNumber(
        MIN_AREA_M2,
        "Minimum mapping unit (m²; smaller regions merge into their largest neighbour, 0 = off)",
        QgsProcessingParameterNumber.Double,
        0.0,
        minValue=0.0,
    )
    alg.addParameter(mmu)
    advanced_params = [
        QgsProcessingParameterBoolean(FILL_HOLES, "Fill holes inside polygons", False),
        QgsProcessingParameterNumber(
            SIMPLIFY_TOLERANCE,
            "Polygon simplification tolerance (map units; 0 = exact pixel edges)",
            QgsProcessingParameterNumber.Double,
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
            OUTPUT_STATS, "Area statistics table", QgsProcessing.TypeVector, optional=True, createByDefault=True
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


def _explicit_path(value: Any) -> str | None:
    """A destination the user typed (not a temporary output), read without creating anything."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    if not isinstance(value, str) or not value or value == QgsProcessing.TEMPORARY_OUTPUT:
        return None
    return value


def check_map_outputs(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], context: QgsProcessingContext) -> None:
    """Refuse bad clean-up values and unusable destinations before the algorithm starts its work."""
    _config(alg, parameters, context)
    polygons = _explicit_path(parameters.get(OUTPUT_POLYGONS))
    table = _explicit_path(parameters.get(OUTPUT_STATS))
    run_core(lambda: check_outputs(MapOutputs(polygons, table)))
    for name in (OUTPUT_REPORT, OUTPUT_REPORT_PDF):
        report = _explicit_path(parameters.get(name))
        if report and not os.path.isdir(os.path.dirname(os.path.abspath(report))):
            raise QgsProcessingException(f"The report folder '{os.path.dirname(report)}' does not exist.")


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


def _config_pairs(config: PolygonConfig) -> tuple[tuple[str, str], ...]:
    return (
        ("Minimum mapping unit", f"{config.min_area_m2:g} m²" if config.min_area_m2 else "off"),
        ("Fill holes", "yes" if config.fill_holes else "no"),
        ("Simplification", f"{config.simplify_tolerance:g} map units" if config.simplify_tolerance else "off"),
        ("Connectivity", "8 (through corners)" if config.eight_connected else "4 (edges only)"),
        ("Background classes as polygons", "yes" if config.include_background else "no"),
    )


def _write_reports(
    product: MapProduct,
    result: MapResult,
    config: PolygonConfig,
    report: str | None,
    pdf: str | None,
    started: float,
    feedback: QgsProcessingFeedback,
) -> None:
    """Render the map previews and write the HTML and/or PDF report."""
    if feedback.isCanceled():
        raise QgsProcessingException("The run was cancelled; the report was not written.")
    feedback.setProgressText("Report")
    images = render_previews(product, result.polygons, sum(result.polygon_counts.values()))
    outputs = (
        ("Class raster", product.class_raster),
        (product.measure_name or "Measure", product.measure_raster),
        ("Polygons", result.polygons),
        ("Area statistics", result.stats_table),
        ("Report", report),
        ("Report (PDF)", pdf),
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
        parameters=product.parameters + _config_pairs(config),
        outputs=tuple((label, path) for label, path in outputs if path),
        seconds_classify=product.seconds,
        seconds_outputs=time.perf_counter() - started,
        polygons_written=bool(result.polygons),
        created=created,
    )
    if report:
        run_core(lambda: write_report(report, build_report(content)))
        feedback.pushInfo(f"Report written to {report}.")
    if pdf:
        run_core(lambda: write_pdf_report(pdf, content, created))
        feedback.pushInfo(f"PDF report written to {pdf}.")


def write_map_outputs(
    alg: QgsProcessingAlgorithm,
    parameters: dict[str, Any],
    context: QgsProcessingContext,
    feedback: QgsProcessingFeedback,
    product: MapProduct,
) -> dict[str, Any]:
    """Sieve, polygonise, tabulate and report ``product``; returns the result-dictionary entries.

    When a minimum mapping unit is set, the class raster is sieved in place and
    ``product.stats`` then describes the sieved raster.
    """
    started = time.perf_counter()
    config = _config(alg, parameters, context)
    polygons = _destination(alg, parameters, OUTPUT_POLYGONS, context)
    table = _destination(alg, parameters, OUTPUT_STATS, context)
    report = _file_path(alg, parameters, OUTPUT_REPORT, context)
    pdf = _file_path(alg, parameters, OUTPUT_REPORT_PDF, context)
    wanted = polygons or table or report or pdf or config.min_area_m2 > 0
    if wanted and not product.class_raster:
        raise QgsProcessingException(
            "Polygons, area statistics, the minimum mapping unit and the report are made from the class raster: "
            "keep the class raster output (a temporary file is fine)."
        )
    if wanted:
        feedback.setProgressText("Polygons and area statistics")
        result: MapResult = run_core(
            lambda: make_map_outputs(
                product, MapOutputs(polygons, table), config, feedback_progress(feedback), feedback_log(feedback)
            )
        )
    else:  # nothing to write: the classification's own statistics answer
        result = MapResult(product.stats, polygonised_classes=())
    if (polygons or report or pdf) and not product.measure_raster:
        feedback.pushInfo(
            f"The {product.measure_name or 'driving measure'} output was skipped: polygons and the report "
            "have no mean values or histogram. Keep that output to get them."
        )
    rows = result.rows()
    polygon_count = sum(result.polygon_counts.values())
    if polygons:
        feedback.pushInfo(f"{polygon_count} polygons written to {polygons}.")
    if report or pdf:
        _write_reports(product, result, config, report, pdf, started, feedback)
    classes = [c for c in product.scheme.classes if c.value in result.polygonised_classes]
    style_on_load(context, result.polygons, f"{product.title} polygons", qml_categorized(classes))
    style_on_load(context, result.stats_table, f"{product.title} areas", None)
    mapped = sum(float(r["area_ha"]) for r in rows if not product.scheme.by_value(int(r["class_id"])).background)
    return {
        OUTPUT_POLYGONS: result.polygons,
        OUTPUT_STATS: result.stats_table,
        OUTPUT_REPORT: report if report and os.path.exists(report) else None,
        OUTPUT_REPORT_PDF: pdf if pdf and os.path.exists(pdf) else None,
        CLASS_AREAS: json.dumps(rows),
        POLYGON_COUNT: polygon_count,
        MAPPED_AREA_HA: mapped,
    }
