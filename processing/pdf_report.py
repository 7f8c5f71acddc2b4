"""The report as a printable A4 PDF, drawn with Qt's PDF writer (shipped with QGIS, no browser needed).

Same content as the HTML page: event title, key figures, where and when, the page-wide result map
(its scale bar, north arrow and ticks are the page's SVG rendered by QtSvg), legend, before/after
previews, area table, histogram, bands used, parameters, inputs and outputs.
QPainter on a QPdfWriter is allowed outside the GUI thread, so this runs in Processing's
worker thread and under ``qgis_process``.
"""

from __future__ import annotations

import contextlib
import os
import uuid

from qgis.PyQt.QtCore import QByteArray, QMarginsF, QRectF, Qt
from qgis.PyQt.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen
from qgis.PyQt.QtSvg import QSvgRenderer

from ..core.errors import OutputError
from ..core.outputs.report import ReportContent, class_label
from ..core.outputs.report_svg import histogram_svg
from .pdf_map import draw_result_map

DPI = 150
INK = QColor("#1f2933")
MUTED = QColor("#627d98")
RULE = QColor("#d9e2ec")


class _Page:
    """A cursor down A4 pages: draws blocks and starts a new page when one does not fit."""

    def __init__(self, writer: QPdfWriter) -> None:
        self.writer = writer
        self.painter = QPainter(writer)
        self.width = self.painter.viewport().width()
        self.height = self.painter.viewport().height()
        self.y = 0.0

    def need(self, height: float) -> None:
        if self.y + height > self.height and self.y > 0:
            self.writer.newPage()
            self.y = 0.0

    def _font(self, size: float, bold: bool) -> None:
        font = QFont("DejaVu Sans", -1)
        font.setPointSizeF(size)
        font.setBold(bold)
        self.painter.setFont(font)

    def text_height(self, width: float, text: str, size: float = 9, bold: bool = False) -> float:
        """Height ``text`` takes when wrapped into ``width``."""
        self._font(size, bold)
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)
        return self.painter.fontMetrics().boundingRect(0, 0, int(width), 100000, flags, text).height()

    def text_width(self, text: str, size: float = 9, bold: bool = False) -> float:
        """Width of ``text`` on one line."""
        self._font(size, bold)
        return self.painter.fontMetrics().horizontalAdvance(text)

    def text(
        self,
        x: float,
        width: float,
        height: float,
        text: str,
        size: float = 9,
        bold: bool = False,
        color: QColor = INK,
        align: int = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    ) -> None:
        self._font(size, bold)
        self.painter.setPen(color)
        self.painter.drawText(QRectF(x, self.y, width, height), int(align) | int(Qt.TextFlag.TextWordWrap), text)

    def heading(self, title: str) -> None:
        self.need(60)
        self.y += 14
        self.text(0, self.width, 34, title, 12, True)
        self.y += 36


def _title(page: _Page, content: ReportContent, created: str) -> None:
    title_h = page.text_height(page.width - 48, content.title, 18, True)
    band = 12 + title_h + (40 if content.subtitle else 0) + 40
    page.painter.fillRect(QRectF(0, 0, page.width, band), INK)
    page.y = 12
    page.text(24, page.width - 48, title_h, content.title, 18, True, QColor("white"))
    page.y += title_h + 4
    if content.subtitle:
        page.text(24, page.width - 48, 36, content.subtitle, 11, False, QColor("#e4e7eb"))
        page.y += 38
    total = content.seconds_classify + content.seconds_outputs
    page.text(
        24, page.width - 48, 34, f"ChangeLens report · {created} · run time {total:.1f} s", 9, False, QColor("#cbd2d9")
    )
    page.y = band + 18


def _where(page: _Page, content: ReportContent) -> None:
    place = content.location
    if place is None and not content.images:
        return
    page.heading("Where and when")
    if place is not None:
        for key, value in (("Centre", place.centre_text()), ("Extent", place.extent_text()), ("Map CRS", place.crs)):
            page.text(0, page.width * 0.2, 28, key, 8.5, True, MUTED)
            page.text(page.width * 0.2, page.width * 0.8, 28, value, 8.5)
            page.y += 28
        page.y += 8
    columns = [("Image", 0.2), ("File", 0.24), ("Sensor / product", 0.34), ("Acquired", 0.22)]
    rows = [[c for c, _w in columns]] + [
        [i.label[:1].upper() + i.label[1:], i.file_name, i.sensor or "not known", i.acquired or "not known"]
        for i in content.images
    ]
    for n, values in enumerate(rows):
        height = max(page.text_height(w * page.width - 8, v, 8.5) for (_c, w), v in zip(columns, values)) + 10
        page.need(height)
        x = 0.0
        for (_c, w), value in zip(columns, values):
            page.text(x, w * page.width - 8, height, value, 8.5, n == 0, MUTED if n == 0 else INK)
            x += w * page.width
        page.painter.setPen(QPen(RULE, 1))
        page.painter.drawLine(0, int(page.y + height), int(page.width), int(page.y + height))
        page.y += height
    page.y += 6


def _legend(page: _Page, content: ReportContent) -> None:
    x = 0.0
    for info in content.scheme.classes:
        name = class_label(info)
        label_w = 30 + page.text_width(name, 8)
        if x + label_w > page.width:
            x, page.y = 0.0, page.y + 30
        page.painter.fillRect(QRectF(x, page.y + 7, 18, 18), QColor(info.color))
        page.text(x + 26, label_w, 32, name, 8)
        x += label_w + 28
    page.y += 40


def _result_map(page: _Page, content: ReportContent) -> None:
    figure = content.result_map
    if figure is None:
        return
    scale = page.width / figure.width
    height = figure.height * scale
    page.need(height + 160)
    page.heading("Result map")
    top = page.y
    draw_result_map(page.painter, figure, 0.0, top, scale)
    page.y = top + height + 4
    caption_h = page.text_height(page.width, figure.caption, 8)
    page.text(0, page.width, caption_h, figure.caption, 8, False, MUTED, Qt.AlignmentFlag.AlignHCenter)
    page.y += caption_h + 10
    page.text(0, page.width, 30, "Legend", 10, True)
    page.y += 30
    _legend(page, content)


def _figures(page: _Page, content: ReportContent) -> None:
    valid = sum(float(r["area_ha"]) for r in content.rows)
    mapped = sum(
        float(r["area_ha"]) for r in content.rows if not content.scheme.by_value(int(r["class_id"])).background
    )
    cards = [("Mapped area", f"{mapped:,.2f} ha"), ("Area with data", f"{valid:,.2f} ha")]
    if content.polygons_written:
        cards.append(("Polygons", f"{sum(int(r['polygons']) for r in content.rows):,}"))
    width = page.width / len(cards)
    for i, (key, value) in enumerate(cards):
        page.text(i * width, width, 26, key.upper(), 7.5, False, MUTED)
        page.y += 26
        page.text(i * width, width, 40, value, 15, True)
        page.y -= 26
    page.y += 76


def _maps(page: _Page, content: ReportContent) -> None:
    if not content.maps:
        return
    gap = 18
    width = (page.width - gap) / 2  # one image keeps the size it has next to another
    images = []
    for caption, png in content.maps:
        image = QImage()
        image.loadFromData(QByteArray(png), "PNG")
        images.append((caption, image))
    height = max(width * img.height() / max(img.width(), 1) for _c, img in images)
    page.need(height + 64 + 60)
    page.heading("Before and after" if len(content.maps) > 1 else "The image")
    for i, (caption, image) in enumerate(images):
        x = i * (width + gap)
        h = width * image.height() / max(image.width(), 1)
        page.painter.drawImage(QRectF(x, page.y, width, h), image)
        page.painter.setPen(QPen(RULE, 2))
        page.painter.setBrush(Qt.BrushStyle.NoBrush)
        page.painter.drawRect(QRectF(x, page.y, width, h))
        page.y += height + 4
        page.text(x, width, 56, caption, 8, False, MUTED, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        page.y -= height + 4
    page.y += height + 64


def _table(page: _Page, content: ReportContent) -> None:
    page.heading("Area by class")
    columns = [
        ("Class", 0.34),
        ("Pixels", 0.13),
        ("Area (ha)", 0.14),
        ("Share", 0.11),
        ("Polygons", 0.12),
        (f"Mean {content.measure_name}", 0.16),
    ]
    row_h = 30

    def row(values: list[str], bold: bool = False, color: QColor = INK, swatch: str | None = None) -> None:
        page.need(row_h)
        x = 0.0
        for i, ((_name, share), value) in enumerate(zip(columns, values)):
            w = share * page.width
            if i == 0 and swatch:
                page.painter.fillRect(QRectF(x, page.y + 7, 16, 16), QColor(swatch))
                page.text(x + 24, w - 24, row_h, value, 8.5, bold, color)
            else:
                align = Qt.AlignmentFlag.AlignLeft if i == 0 else Qt.AlignmentFlag.AlignRight
                page.text(x, w - 8, row_h, value, 8.5, bold, color, align | Qt.AlignmentFlag.AlignVCenter)
            x += w
        page.painter.setPen(QPen(RULE, 1))
        page.painter.drawLine(0, int(page.y + row_h), int(page.width), int(page.y + row_h))
        page.y += row_h

    row([name for name, _share in columns], bold=True, color=MUTED)
    for r in content.rows:
        info = content.scheme.by_value(int(r["class_id"]))
        polys = f"{int(r['polygons']):,}" if content.polygons_written and info.value in content.polygonised else "–"
        mean = r.get("mean_measure")
        row(
            [
                class_label(info),
                f"{int(r['pixels']):,}",
                f"{float(r['area_ha']):,.2f}",
                f"{float(r['percent']):.1f} %",
                polys,
                "–" if mean is None else f"{mean:.3f}",
            ],
            color=MUTED if info.background else INK,
            swatch=info.color,
        )
    total = sum(float(r["area_ha"]) for r in content.rows)
    row(
        [
            "Total with data",
            f"{sum(int(r['pixels']) for r in content.rows):,}",
            f"{total:,.2f}",
            "100 %",
            f"{sum(int(r['polygons']) for r in content.rows):,}",
            "",
        ],
        bold=True,
    )


def _histogram(page: _Page, content: ReportContent) -> None:
    if content.histogram is None:
        return
    page.heading(f"Histogram of {content.measure_name}")
    height = page.width * 280 / 1120
    page.need(height)
    drawn = histogram_svg(content.histogram, content.measure_name, content.scheme, content.breaks, content.threshold)
    renderer = QSvgRenderer(QByteArray(drawn.encode("utf-8")))
    renderer.render(page.painter, QRectF(0, page.y, page.width, height))
    page.y += height + 10


def _pairs(page: _Page, title: str, pairs: tuple[tuple[str, str], ...]) -> None:
    if not pairs:
        return
    page.heading(title)
    for key, value in pairs:
        key = key[:1].upper() + key[1:]
        height = max(page.text_height(page.width * 0.33, key, 8, True), page.text_height(page.width * 0.64, value, 8))
        page.need(height + 8)
        page.text(
            0, page.width * 0.33, height, key, 8, True, MUTED, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        )
        page.text(
            page.width * 0.35,
            page.width * 0.64,
            height,
            value,
            8,
            False,
            INK,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
        )
        page.y += height + 8


def write_pdf_report(path: str, content: ReportContent, created: str) -> None:
    """Draw the report on A4 pages into ``path`` (written under a temporary name, then renamed)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"The output folder '{folder}' does not exist.")
    temp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.partial")
    writer = QPdfWriter(temp)
    writer.setResolution(DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"{content.title} – ChangeLens report")
    writer.setCreator("ChangeLens")
    page = _Page(writer)
    drawn = False
    try:
        page.painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _title(page, content, created)
        _figures(page, content)
        _result_map(page, content)
        _where(page, content)
        _maps(page, content)
        _table(page, content)
        _histogram(page, content)
        _pairs(page, "Bands, conversions and masks used", content.reading)
        _pairs(page, "Parameters", content.parameters)
        _pairs(page, "Inputs", content.inputs)
        _pairs(page, "Outputs", content.outputs)
        drawn = True
    finally:
        page.painter.end()
        del writer
        if not drawn:  # a failed or cancelled report leaves no partial file behind
            with contextlib.suppress(OSError):
                os.remove(temp)
    if not os.path.exists(temp) or os.path.getsize(temp) == 0:
        raise OutputError(f"Cannot write the PDF report '{path}'.")
    os.replace(temp, path)
