"""The report of a run, HTML and PDF, staged in the run's transaction like every other output.

Gathers what the page says: the event title (given, or from the inputs' names and dates), each
image's sensor/product and acquisition date, the location, the page-wide result map with its
furniture (over an optional basemap), true-colour before/after previews, the bands, conversions
and masks the run used (``MapProduct.reading``), class areas with polygon counts and the histogram
of the driving measure (a model's probability).
"""

from __future__ import annotations

import datetime as dt
import time

from qgis.core import QgsProcessingFeedback

from ..core.errors import CancelledError
from ..core.io.grid import centre_pixel_area_m2, grid_of
from ..core.io.raster import open_raster
from ..core.outputs.products import MapProduct
from ..core.outputs.report import ReportContent, build_report, write_report
from ..core.outputs.report_facts import default_event_title, image_facts, location_of
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapResult
from .base import run_core
from .pdf_report import write_pdf_report
from .preview import input_previews, result_figure


def stop_if_cancelled(feedback: QgsProcessingFeedback) -> None:
    """Raise :class:`CancelledError` when the user cancelled (the transaction then keeps nothing)."""
    if feedback is not None and feedback.isCanceled():
        raise CancelledError("The run was cancelled.")


def _result_caption(product: MapProduct, outlined: bool, mmu: str) -> str:
    caption = f"{product.title}" + (", polygons outlined" if outlined else "")
    return caption + (f" · minimum mapping unit {mmu}" if mmu and mmu != "off" else "")


def _mmu(asked: str, threshold_px: int, plan: object, product: MapProduct) -> str:
    """The minimum mapping unit as asked and as applied: ``3 pixels = 1,200 m² (0.12 ha) here``."""
    if not threshold_px:
        return asked
    pixel_m2 = centre_pixel_area_m2(grid_of(open_raster(product.class_raster)))
    area = threshold_px * pixel_m2
    here = f"{threshold_px} pixels = {area:,.0f} m² ({area / 1e4:.2f} ha) here"
    if threshold_px > plan.config.threshold_px(pixel_m2):
        return f"{asked} asked; the method's own unit applies: {here}"
    return here if asked == f"{threshold_px} pixels" else f"{asked}: {here}"


def _threshold_break(product: MapProduct) -> tuple[float, ...]:
    """A two-class map's threshold as its class break (a model's histogram bars then take class colours)."""
    return (product.threshold,) if product.threshold is not None and len(product.scheme.classes) == 2 else ()


def write_reports(
    product: MapProduct,
    result: MapResult,
    plan: object,
    transaction: Transaction,
    started: float,
    feedback: QgsProcessingFeedback,
    config_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Render the maps and write the HTML and/or PDF report of ``plan`` (a ``MapOutputPlan``), staged."""
    stop_if_cancelled(feedback)
    feedback.setProgressText("Report")
    images = tuple(image_facts(label, path) for label, path in product.inputs)
    title = plan.event_title or default_event_title(product.title, [i for i in images if i.label.lower() != "dem"])
    mmu = _mmu(dict(config_pairs).get("Minimum mapping unit", ""), result.sieve_threshold_px, plan, product)
    polygon_count = sum(result.polygon_counts.values())
    outlined = bool(result.polygons_staged) and polygon_count > 0
    drawn = result_figure(
        product, result.polygons_staged, polygon_count, plan.basemap, _result_caption(product, outlined, mmu)
    )
    previews: list[tuple[str, bytes]] = []
    if drawn is not None:
        _figure, extent, crs = drawn
        stop_if_cancelled(feedback)
        previews = input_previews(product.inputs[:2], product.roles_by_path(), images, extent, crs)
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
    pairs = tuple((k, v) for k, v in config_pairs if k != "Minimum mapping unit") + (("Minimum mapping unit", mmu),)
    basemap = (("Basemap", plan.basemap.name() or plan.basemap.source()),) if plan.basemap is not None else ()
    content = ReportContent(
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
        result_map=drawn[0] if drawn is not None else None,
        images=images,
        location=location_of(product.class_raster),
        inputs=product.inputs,
        reading=product.reading,
        parameters=product.parameters + pairs + basemap,
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
