"""One whole run of a declared method without QGIS: rasters, polygons, table and report in one transaction.

This is what the Processing algorithm does (``processing/method_algorithm.py``), minus QGIS:
the same :func:`~changelens.core.pipeline.run_and_map`, the same report content
(:func:`report_content`, which Processing uses too, with its maps decided in
:mod:`.outputs.report_maps`) and the same results (:func:`summary_entries`); only the map images
are drawn with numpy and GDAL (:mod:`.outputs.preview`) instead of QGIS's renderer. The command
line and the cluster workers call :func:`run_declared`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import CancelledError, ParameterError
from .methods.declaration import IndexMethod, RunRequest
from .methods.outputs import config_pairs
from .outputs.preview import GDAL_RENDERER
from .outputs.products import MapProduct, with_final_paths
from .outputs.report import ReportContent, build_report, write_report
from .outputs.report_facts import default_event_title, image_facts, location_of
from .outputs.report_maps import (
    MAX_OUTLINED_POLYGONS,
    MapRenderer,
    frame_of,
    map_figure,
    mmu_applied,
    previews_of,
    result_caption,
)
from .outputs.transaction import Transaction
from .outputs.vectorize import MapOutputs, MapResult, PolygonConfig, check_map_outputs
from .pipeline import SecondPassRunner, result_values, run_and_map
from .progress import Log, Progress, no_log, no_progress


@dataclass(frozen=True)
class MapDestinations:
    """The shared outputs a run is asked for (final paths; None = skipped), the clean-up options and the
    report's event title and basemap (a QGIS layer in Processing, a raster file path on the command line)."""

    config: PolygonConfig = field(default_factory=PolygonConfig)
    polygons: str | None = None
    table: str | None = None
    report: str | None = None
    pdf: str | None = None
    event_title: str = ""
    basemap: Any = None

    @property
    def wanted(self) -> bool:
        """True when anything beyond the class raster's own statistics is asked for."""
        return bool(self.polygons or self.table or self.report or self.pdf or self.config.sieves)


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


def _threshold_break(product: MapProduct) -> tuple[float, ...]:
    """A two-class map's threshold as its class break (a model's histogram bars then take class colours)."""
    return (product.threshold,) if product.threshold is not None and len(product.scheme.classes) == 2 else ()


def report_content(
    product: MapProduct,
    result: MapResult,
    destinations: MapDestinations,
    transaction: Transaction,
    renderer: MapRenderer,
    started: float,
    created: str,
    stop: Callable[[], None] = lambda: None,
) -> ReportContent:
    """What the report of a run shows, the same for Processing, the command line and the cluster.

    The event title (given, or from the inputs' names and dates), each image's sensor/product and
    date, the location, the page-wide result map with its furniture (over the basemap, if any),
    true-colour before/after previews, the reading of each input, class areas with polygon counts,
    the histogram and the parameters. ``renderer`` only draws the images; ``stop`` raises
    :class:`CancelledError` when the user cancelled; ``started`` is when the outputs began
    (``time.perf_counter``).
    """
    images = tuple(image_facts(label, path) for label, path in product.inputs)
    title = destinations.event_title or default_event_title(
        product.title, [i for i in images if i.label.lower() != "dem"]
    )
    pairs = config_pairs(destinations.config)
    mmu = mmu_applied(
        dict(pairs)["Minimum mapping unit"], result.sieve_threshold_px, destinations.config, product.class_raster
    )
    polygon_count = sum(result.polygon_counts.values())
    outlined = bool(result.polygons_staged) and polygon_count > 0
    outline = result.polygons_staged if polygon_count <= MAX_OUTLINED_POLYGONS else None
    frame = frame_of(product.class_raster)
    png = renderer.result_png(product, outline, destinations.basemap, frame) if frame is not None else None
    figure = map_figure(png, frame, result_caption(product.title, outlined, mmu)) if png else None
    previews: list[tuple[str, bytes]] = []
    if figure is not None:
        stop()
        shown = previews_of(product.inputs[:2], product.roles_by_path(), images)
        drawn = renderer.preview_pngs(shown, frame)
        previews = [(p.caption, image) for p, image in zip(shown, drawn) if image]
    stop()
    outputs = (
        ("Class raster", transaction.final_of(product.class_raster)),
        (product.measure_name or "Measure", transaction.final_of(product.measure_raster or "")),
        ("Polygons", result.polygons),
        ("Area statistics", result.stats_table),
        ("Report", destinations.report),
        ("Report (PDF)", destinations.pdf),
    )
    pairs = tuple((k, v) for k, v in pairs if k != "Minimum mapping unit") + (("Minimum mapping unit", mmu),)
    basemap = destinations.basemap
    shown_basemap = (("Basemap", renderer.basemap_name(basemap)),) if basemap is not None else ()
    return ReportContent(
        title=title,
        subtitle=product.title,
        measure_name=product.measure_name,
        scheme=product.scheme,
        rows=tuple(result.rows()),
        polygonised=result.polygonised_classes,
        threshold=product.threshold,
        breaks=product.breaks or _threshold_break(product),
        histogram=result.histogram,
        maps=tuple(previews),
        result_map=figure,
        images=images,
        location=location_of(product.class_raster),
        inputs=product.inputs,
        reading=product.reading,
        parameters=product.parameters + pairs + shown_basemap,
        outputs=tuple((label, path) for label, path in outputs if path),
        seconds_classify=product.seconds,
        seconds_outputs=time.perf_counter() - started,
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
        "OUTPUT_REPORT_PDF": destinations.pdf,
        "CLASS_AREAS": json.dumps([{k: _finite(v) for k, v in row.items()} for row in rows]),
        "POLYGON_COUNT": sum(result.polygon_counts.values()),
        "MAPPED_AREA_HA": mapped if math.isfinite(mapped) else None,  # no georeferencing: areas unknown
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: an unknown area becomes null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


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
    renderer: MapRenderer = GDAL_RENDERER,
    second_pass: SecondPassRunner | None = None,
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
            second_pass,
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

            def stop() -> None:
                if not progress(1.0):
                    raise CancelledError("The run was cancelled.")

            content = report_content(product, result, destinations, txn, renderer, started, created_now(), stop)
            write_report(txn.path_for(destinations.report, "report"), build_report(content))
        txn.commit()
        final = with_final_paths(product, txn)
    results = {**summary_entries(final, result, destinations), **result_values(method, final)}
    for out in method.raster_outputs():
        results[out.name] = request.outputs.get(out.key)
    return RunOutcome(final, result, results)
