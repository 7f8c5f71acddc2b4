"""The result map's furniture, measured without QGIS: coordinate ticks, scale bar and north arrow.

Everything is computed for a north-up map of ``bounds`` ``(xmin, ymin, xmax, ymax)`` in ``srs``
(an OSR CRS with GIS axis order, or None) drawn ``width`` x ``height`` pixels. Processing and the
command line both place these on their result map, so the report's furniture is the same whichever
renders the map image; the drawing itself is SVG (:func:`.report_svg.map_figure_svg`).
"""

from __future__ import annotations

import math

from osgeo import osr

from .report_facts import nice_step

Bounds = tuple[float, float, float, float]
SAMPLES = 200  # points along each edge where longitudes/latitudes are read


def _wgs84() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _to_wgs84(srs: osr.SpatialReference | None) -> osr.CoordinateTransformation | None:
    if srs is None:
        return None
    try:
        return osr.CoordinateTransformation(srs, _wgs84())
    except (RuntimeError, TypeError):
        return None


def _lonlat(transform: osr.CoordinateTransformation, x: float, y: float) -> tuple[float, float]:
    lon, lat, _z = transform.TransformPoint(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise RuntimeError("point outside the CRS's area")
    return lon, lat


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
    bounds: Bounds, srs: osr.SpatialReference | None, width: int, height: int
) -> tuple[tuple[str, float, str], ...]:
    """Longitude ticks along the bottom edge and latitude ticks along the left edge (``(side, px, label)``)."""
    transform = _to_wgs84(srs)
    if transform is None:
        return ()
    xmin, ymin, xmax, ymax = bounds
    try:
        bottom = [_lonlat(transform, xmin + (xmax - xmin) * i / SAMPLES, ymin)[0] for i in range(SAMPLES + 1)]
        left = [_lonlat(transform, xmin, ymax - (ymax - ymin) * i / SAMPLES)[1] for i in range(SAMPLES + 1)]
    except RuntimeError:
        return ()
    ticks = [("bottom", px, _degrees(v, step, "E", "W")) for px, v, step in _crossings(bottom, width)]
    ticks += [("left", px, _degrees(v, step, "N", "S")) for px, v, step in _crossings(left, height, 4)]
    return tuple(
        (side, px, label) for side, px, label in ticks if 30 <= px <= (width if side == "bottom" else height) - 30
    )


def geodesic_m(a: float, f: float, lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on the ellipsoid (Vincenty's inverse formula; spherical fallback where it does not converge)."""
    b = a * (1 - f)
    lam0 = lam = math.radians(lon2 - lon1)
    u1, u2 = math.atan((1 - f) * math.tan(math.radians(lat1))), math.atan((1 - f) * math.tan(math.radians(lat2)))
    su1, cu1, su2, cu2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    sigma = 0.0
    for _ in range(200):
        sl, cl = math.sin(lam), math.cos(lam)
        ss = math.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
        if ss == 0:
            return 0.0
        cs = su1 * su2 + cu1 * cu2 * cl
        sigma = math.atan2(ss, cs)
        sa = cu1 * cu2 * sl / ss
        c2a = 1 - sa * sa
        c2sm = cs - 2 * su1 * su2 / c2a if c2a else 0.0
        c = f / 16 * c2a * (4 + f * (4 - 3 * c2a))
        previous, lam = lam, lam0 + (1 - c) * f * sa * (sigma + c * ss * (c2sm + c * cs * (-1 + 2 * c2sm * c2sm)))
        if abs(lam - previous) < 1e-12:
            u_sq = c2a * (a * a - b * b) / (b * b)
            big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
            big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
            ds = big_b * ss * (c2sm + big_b / 4 * (cs * (-1 + 2 * c2sm**2) - big_b / 6 * c2sm * (-3 + 4 * ss**2)))
            return b * big_a * (sigma - ds)
    return a * sigma


def ground_width_m(bounds: Bounds, srs: osr.SpatialReference | None) -> float:
    """Ellipsoidal length of the map's middle row, in metres (0 when it cannot be measured)."""
    transform = _to_wgs84(srs)
    if transform is None:
        return 0.0
    xmin, ymin, xmax, ymax = bounds
    mid = (ymin + ymax) / 2
    try:
        (lon1, lat1), (lon2, lat2) = _lonlat(transform, xmin, mid), _lonlat(transform, xmax, mid)
    except RuntimeError:
        return 0.0
    inv_f = srs.GetInvFlattening()
    length = geodesic_m(srs.GetSemiMajor(), 1 / inv_f if inv_f else 0.0, lon1, lat1, lon2, lat2)
    return length if length > 0 and math.isfinite(length) else 0.0


def scale_bar(bounds: Bounds, srs: osr.SpatialReference | None, width: int) -> tuple[float, str]:
    """A round ground length near a quarter of the map's width: ``(length in px, label)``."""
    metres = ground_width_m(bounds, srs)
    if metres <= 0:
        return 0.0, ""
    per_px = metres / width
    length = nice_step(metres / 4.0, 1)
    while length / per_px > width * 0.4:
        length /= 2
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return length / per_px, label


def north_angle(bounds: Bounds, srs: osr.SpatialReference | None) -> float:
    """Direction of true north at the map's centre, degrees clockwise from straight up (0 for lat/lon)."""
    transform = _to_wgs84(srs)
    if transform is None or srs.IsGeographic():
        return 0.0
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    try:
        lon, lat = _lonlat(transform, cx, cy)
        x, y, _z = osr.CoordinateTransformation(_wgs84(), srs).TransformPoint(lon, lat + 0.01)
    except RuntimeError:
        return 0.0
    return math.degrees(math.atan2(x - cx, y - cy))
