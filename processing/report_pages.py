"""The report of a run, HTML and PDF, staged in the run's transaction like every other output.

What the page says is gathered in core (:func:`changelens.core.runner.report_content`, which the
command line uses too): the event title (given, or from the inputs' names and dates), each
image's sensor/product and acquisition date, the location, the page-wide result map with its
furniture (over an optional basemap), true-colour before/after previews, the bands, conversions
and masks the run used (``MapProduct.reading``), class areas with polygon counts and the histogram
of the driving measure (a model's probability). Here QGIS draws the maps and the PDF.
"""

from __future__ import annotations

from qgis.core import QgsProcessingFeedback

from ..core.errors import CancelledError
from ..core.outputs.products import MapProduct
from ..core.outputs.report import build_report, write_report
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapResult
from ..core.runner import MapDestinations, created_now, report_content
from .base import run_core
from .pdf_report import write_pdf_report
from .preview import QGIS_RENDERER


def stop_if_cancelled(feedback: QgsProcessingFeedback) -> None:
    """Raise :class:`CancelledError` when the user cancelled (the transaction then keeps nothing)."""
    if feedback is not None and feedback.isCanceled():
        raise CancelledError("The run was cancelled.")


def write_reports(
    product: MapProduct,
    result: MapResult,
    plan: MapDestinations,
    transaction: Transaction,
    started: float,
    feedback: QgsProcessingFeedback,
) -> None:
    """Render the maps and write the HTML and/or PDF report of ``plan``, staged."""
    stop_if_cancelled(feedback)
    feedback.setProgressText("Report")
    content = run_core(
        lambda: report_content(
            product,
            result,
            plan,
            transaction,
            QGIS_RENDERER,
            started,
            created_now(),
            lambda: stop_if_cancelled(feedback),
        )
    )
    if plan.report:
        staged = transaction.path_for(plan.report, "report")
        run_core(lambda: write_report(staged, build_report(content)))
        stop_if_cancelled(feedback)
    if plan.pdf:
        staged_pdf = transaction.path_for(plan.pdf, "PDF report")
        run_core(lambda: write_pdf_report(staged_pdf, content, content.created))
        stop_if_cancelled(feedback)
