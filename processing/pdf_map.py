"""The result map on a PDF page: image, frame, coordinate ticks, scale bar and north arrow.

Drawn with QPainter from the same :class:`MapFigure` geometry as the HTML page's SVG, so the
labels stay real text in the PDF (searchable, sharp at any zoom).
"""

from __future__ import annotations

from qgis.PyQt.QtCore import QByteArray, QPointF, QRectF, Qt
from qgis.PyQt.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPolygonF

from ..core.outputs.report_svg import MapFigure

DARK = QColor("#102a43")
FRAME = QColor("#243b53")
HALO = QColor(255, 255, 255, 225)
EDGE = QColor("#9fb3c8")


def _font(painter: QPainter, size_px: float, bold: bool = False) -> None:
    font = QFont("DejaVu Sans")
    font.setPixelSize(max(1, round(size_px)))
    font.setBold(bold)
    painter.setFont(font)


def _text(painter: QPainter, x: float, y: float, text: str, size_px: float, bold: bool = False) -> None:
    """``text`` centred on ``x`` with its baseline at ``y``."""
    _font(painter, size_px, bold)
    width = painter.fontMetrics().horizontalAdvance(text)
    painter.setPen(DARK)
    painter.drawText(QPointF(x - width / 2, y), text)


def draw_result_map(painter: QPainter, figure: MapFigure, left: float, top: float, scale: float) -> None:
    """Draw ``figure`` with its top-left corner at (``left``, ``top``), ``scale`` page units per figure px.

    The painter's pen, brush and font are restored afterwards (a brush left set would fill the next frames).
    """
    painter.save()
    try:
        _draw(painter, figure, left, top, scale)
    finally:
        painter.restore()


def _draw(painter: QPainter, figure: MapFigure, left: float, top: float, scale: float) -> None:
    x0, y0, w, h = (v * scale for v in figure.map_box)
    x0, y0 = left + x0, top + y0
    image = QImage()
    image.loadFromData(QByteArray(figure.png), "PNG")
    painter.drawImage(QRectF(x0, y0, w, h), image)
    painter.setPen(QPen(FRAME, 2 * scale))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(QRectF(x0, y0, w, h))
    for side, offset, label in figure.ticks:
        if side == "bottom":
            x = x0 + offset * scale
            painter.setPen(QPen(FRAME, 2 * scale))
            painter.drawLine(QPointF(x, y0 + h), QPointF(x, y0 + h + 10 * scale))
            _text(painter, x, y0 + h + 32 * scale, label, 21 * scale)
        else:
            y = y0 + offset * scale
            painter.setPen(QPen(FRAME, 2 * scale))
            painter.drawLine(QPointF(x0 - 10 * scale, y), QPointF(x0, y))
            painter.save()
            painter.translate(x0 - 16 * scale, y)
            painter.rotate(-90)
            _text(painter, 0, 0, label, 21 * scale)
            painter.restore()
    _scale_bar(painter, figure, x0, y0 + h, scale)
    _north_arrow(painter, figure, x0 + w, y0, scale)


def _scale_bar(painter: QPainter, figure: MapFigure, x0: float, bottom: float, scale: float) -> None:
    if figure.scale_px <= 0:
        return
    left, base = x0 + 30 * scale, bottom - 30 * scale
    length = figure.scale_px * scale
    label_w = 14 * len(figure.scale_label) * scale
    painter.setPen(QPen(EDGE, scale))
    painter.setBrush(QBrush(HALO))
    painter.drawRoundedRect(
        QRectF(left - 16 * scale, base - 50 * scale, length + 32 * scale + label_w / 2, 72 * scale),
        5 * scale,
        5 * scale,
    )
    part = length / figure.scale_segments
    painter.setPen(QPen(DARK, 2 * scale))
    for i in range(figure.scale_segments):
        painter.setBrush(QBrush(DARK if i % 2 == 0 else QColor("white")))
        painter.drawRect(QRectF(left + i * part, base - 8 * scale, part, 14 * scale))
    _text(painter, left, base - 18 * scale, "0", 22 * scale)
    _text(painter, left + length, base - 18 * scale, figure.scale_label, 22 * scale)


def _north_arrow(painter: QPainter, figure: MapFigure, right: float, top: float, scale: float) -> None:
    cx, cy = right - 62 * scale, top + 76 * scale
    painter.save()
    painter.translate(cx, cy)
    painter.rotate(figure.north_deg)
    painter.scale(scale, scale)
    painter.setPen(QPen(EDGE, 1))
    painter.setBrush(QBrush(HALO))
    painter.drawEllipse(QPointF(0, 0), 46, 46)
    painter.setPen(QPen(DARK, 2))
    painter.setBrush(QBrush(DARK))
    painter.drawPolygon(QPolygonF([QPointF(0, -30), QPointF(15, 24), QPointF(0, 13)]))
    painter.setBrush(QBrush(QColor("white")))
    painter.drawPolygon(QPolygonF([QPointF(0, -30), QPointF(-15, 24), QPointF(0, 13)]))
    _text(painter, 0, -52, "N", 26, bold=True)
    painter.restore()
