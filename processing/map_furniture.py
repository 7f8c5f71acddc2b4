"""The result map's furniture, measured with QGIS: coordinate ticks, scale bar and north arrow.

Everything is computed for a north-up map of ``extent`` (in ``crs``) drawn ``width`` x ``height``
pixels; the drawing itself is SVG (:func:`changelens.core.outputs.report_svg.map_figure_svg`).
"""

from __future__ import annotations

import math

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsCsException,
    QgsDistanceArea,
    QgsPointXY,
    QgsRectangle,
)

from ..core.outputs.report_facts import nice_step

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
SAMPLES = 200  # points along each edge where longitudes/latitudes are read


def _to_wgs84(crs: QgsCoordinateReferenceSystem) -> QgsCoordinateTransform | None:
    if not crs.isValid():
        return None
    return QgsCoordinateTransform(crs, WGS84, QgsCoordinateTransformContext())


def _degrees(value: float, step: float, positive: str, negative: str) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1  # 0.25-type steps
    return f"{abs(value):.{decimals}f}°{positive if value >= 0 else negative}"


def _crossings(values: list[float], span_px: float, count: int = 5) -> list[tuple[float, float, float]]:
    """Where round values are crossed along an edge sampled at equal steps: ``(offset px, value, step)``."""
    lo, hi = min(values), max(values)
    step = nice_step(hi - lo, count)
    out = []
    first = math.ceil(lo / step) * step
    for k in range(int((hi - first) / step + 1e-9) + 1):
        target = first + k * step
        for i in range(len(values) - 1):
            a, b = values[i], values[i + 1]
            if a != b and min(a, b) <= target <= max(a, b):
                frac = (i + (target - a) / (b - a)) / (len(values) - 1)
                out.append((frac * span_px, target, step))
                break
    return out


def coordinate_ticks(
    extent: QgsRectangle, crs: QgsCoordinateReferenceSystem, width: int, height: int
) -> tuple[tuple[str, float, str], ...]:
    """Longitude ticks along the bottom edge and latitude ticks along the left edge (``(side, px, label)``)."""
    transform = _to_wgs84(crs)
    if transform is None:
        return ()
    try:
        bottom = [
            transform.transform(QgsPointXY(extent.xMinimum() + extent.width() * i / SAMPLES, extent.yMinimum())).x()
            for i in range(SAMPLES + 1)
        ]
        left = [
            transform.transform(QgsPointXY(extent.xMinimum(), extent.yMaximum() - extent.height() * i / SAMPLES)).y()
            for i in range(SAMPLES + 1)
        ]
    except QgsCsException:
        return ()
    ticks = [("bottom", px, _degrees(v, step, "E", "W")) for px, v, step in _crossings(bottom, width)]
    ticks += [("left", px, _degrees(v, step, "N", "S")) for px, v, step in _crossings(left, height, 4)]
    return tuple(
        (side, px, label) for side, px, label in ticks if 30 <= px <= (width if side == "bottom" else height) - 30
    )


def ground_width_m(extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> float:
    """Ellipsoidal length of the map's middle row, in metres (0 when it cannot be measured)."""
    distance = QgsDistanceArea()
    distance.setSourceCrs(crs, QgsCoordinateTransformContext())
    distance.setEllipsoid(crs.ellipsoidAcronym() or "EPSG:7030")
    mid = extent.center().y()
    try:
        length = distance.measureLine(QgsPointXY(extent.xMinimum(), mid), QgsPointXY(extent.xMaximum(), mid))
    except QgsCsException:
        return 0.0
    return length if length > 0 and distance.willUseEllipsoid() else 0.0  # ellipsoidal lengths are in metres


def scale_bar(extent: QgsRectangle, crs: QgsCoordinateReferenceSystem, width: int) -> tuple[float, str]:
    """A round ground length near a quarter of the map's width: ``(length in px, label)``."""
    metres = ground_width_m(extent, crs)
    if metres <= 0:
        return 0.0, ""
    per_px = metres / width
    length = nice_step(metres / 4.0, 1)
    while length / per_px > width * 0.4:
        length /= 2
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return length / per_px, label


def north_angle(extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> float:
    """Direction of true north at the map's centre, degrees clockwise from straight up (0 for lat/lon)."""
    transform = _to_wgs84(crs)
    if transform is None or crs.isGeographic():
        return 0.0
    back = QgsCoordinateTransform(WGS84, crs, QgsCoordinateTransformContext())
    try:
        centre = transform.transform(extent.center())
        north = back.transform(QgsPointXY(centre.x(), centre.y() + 0.01))
    except QgsCsException:
        return 0.0
    return math.degrees(math.atan2(north.x() - extent.center().x(), north.y() - extent.center().y()))
