"""One whole run of a declared method without QGIS: rasters, polygons, table and report in one transaction.

This is what the Processing algorithm does (``processing/method_algorithm.py``), minus QGIS:
the same :func:`~changelens.core.pipeline.run_and_map`, the same report content
(:func:`report_content`, which Processing uses too) and map previews rendered with numpy and
GDAL (:mod:`.outputs.preview`) instead of QGIS's renderer. The command line and the cluster
workers call :func:`run_declared`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import CancelledError, ParameterError
from .methods.declaration import IndexMethod, RunRequest
from .methods.outputs import config_pairs
from .outputs.preview import render_previews
from .outputs.products import MapProduct, with_final_paths
from .outputs.report import ReportContent, build_report, write_report
from .outputs.transaction import Transaction
from .outputs.vectorize import MapOutputs, MapResult, PolygonConfig, check_map_outputs
from .pipeline import result_values, run_and_map
from .progress import Log, Progress, no_log, no_progress

Previews = Callable[[MapProduct, "str | None", int], "list[tuple[str, bytes]]"]


@dataclass(frozen=True)
class MapDestinations:
    """The shared outputs a run is asked for (final paths; None = skipped) and the clean-up options."""

    config: PolygonConfig = field(default_factory=PolygonConfig)
    polygons: str | None = None
    table: str | None = None
    report: str | None = None
    pdf: str | None = None

    @property
    def wanted(self) -> bool:
        """True when anything beyond the class raster's own statistics is asked for."""
        return bool(self.polygons or self.table or self.report or self.pdf or self.config.min_area_m2 > 0)


def reserve_destinations(destinations: MapDestinations, transaction: Transaction) -> None:
    """Check the polygon and table formats and reserve every shared destination (before any pixel is read)."""
    check_map_outputs(MapOutputs(destinations.polygons, destinations.table))
    for path, label in (
        (destinations.polygons, "polygons"),
        (destinations.table, "area statistics table"),
        (destinations.report, "report"),
        (destinations.pdf, "PDF report"),
    ):
        if path:
            transaction.reserve(path, label)


def report_content(
    product: MapProduct,
    result: MapResult,
    destinations: MapDestinations,
    transaction: Transaction,
    images: list[tuple[str, bytes]],
    seconds_outputs: float,
    created: str,
) -> ReportContent:
    """What the report of a run shows (the same for Processing, the command line and the cluster)."""
    outputs = (
        ("Class raster", transaction.final_of(product.class_raster)),
        (product.measure_name or "Measure", transaction.final_of(product.measure_raster or "")),
        ("Polygons", result.polygons),
        ("Area statistics", result.stats_table),
        ("Report", destinations.report),
        ("Report (PDF)", destinations.pdf),
    )
    return ReportContent(
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
        parameters=product.parameters + config_pairs(destinations.config),
        outputs=tuple((label, path) for label, path in outputs if path),
        seconds_classify=product.seconds,
        seconds_outputs=seconds_outputs,
        polygons_written=bool(result.polygons),
        created=created,
    )


def created_now() -> str:
    """The report's time stamp: local time with its zone."""
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def summary_entries(product: MapProduct, result: MapResult, destinations: MapDestinations) -> dict[str, Any]:
    """The shared results of a run: CLASS_AREAS (JSON rows), POLYGON_COUNT and MAPPED_AREA_HA, with the paths."""
    rows = result.rows()
    mapped = sum(float(r["area_ha"]) for r in rows if product.scheme.by_value(int(r["class_id"])).mapped)
    return {
        "OUTPUT_POLYGONS": result.polygons,
        "OUTPUT_STATS": result.stats_table,
        "OUTPUT_REPORT": destinations.report,
        "CLASS_AREAS": json.dumps(rows),
        "POLYGON_COUNT": sum(result.polygon_counts.values()),
        "MAPPED_AREA_HA": mapped,
    }


@dataclass(frozen=True)
class RunOutcome:
    """A committed run: the product (final paths), what the shared outputs measured and the results by name."""

    product: MapProduct
    result: MapResult
    results: dict[str, Any]


def run_declared(
    method: IndexMethod,
    request: RunRequest,
    destinations: MapDestinations,
    progress: Progress = no_progress,
    log: Log = no_log,
    previews: Previews = render_previews,
) -> RunOutcome:
    """Run ``method`` and write every asked output in one transaction (all committed together, or none).

    Raises :class:`~changelens.core.errors.InputError` and
    :class:`~changelens.core.errors.ParameterError` on bad input (before anything is written),
    :class:`~changelens.core.errors.OutputError` and :class:`~changelens.core.errors.CancelledError`.
    """
    if destinations.pdf:
        raise ParameterError("The PDF report is drawn by QGIS: run the algorithm in QGIS or qgis_process for it.")
    with Transaction() as txn:
        reserve_destinations(destinations, txn)
        product, result = run_and_map(
            method,
            request,
            destinations.config,
            MapOutputs(destinations.polygons, destinations.table),
            txn,
            progress,
            log,
        )
        started = time.perf_counter()
        if (destinations.polygons or destinations.report) and not product.measure_raster:
            log(
                f"The {product.measure_name or 'driving measure'} output was skipped: polygons and the report "
                "have no mean values or histogram. Keep that output to get them."
            )
        if destinations.report:
            if not product.class_raster:
                raise ParameterError(
                    "The report is made from the class raster: keep the class raster output (a temporary file is fine)."
                )
            images = previews(product, result.polygons_staged, sum(result.polygon_counts.values()))
            if not progress(1.0):
                raise CancelledError("The run was cancelled.")
            content = report_content(
                product, result, destinations, txn, images, time.perf_counter() - started, created_now()
            )
            write_report(txn.path_for(destinations.report, "report"), build_report(content))
        txn.commit()
        final = with_final_paths(product, txn)
    results = {**summary_entries(final, result, destinations), **result_values(method, final)}
    for out in method.raster_outputs():
        results[out.name] = request.outputs.get(out.key)
    return RunOutcome(final, result, results)
