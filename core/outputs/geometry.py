"""Ground areas and perimeters of polygons in any CRS, without QGIS.

Projected CRSs use planar measures times the linear unit. Geographic CRSs integrate
the ellipsoid's authalic area along each ring (exact for the meridian/parallel edges
that polygonised pixels have) and measure edges with the local radii of curvature.
"""

from __future__ import annotations

import numpy as np
from osgeo import ogr, osr

from ..io.grid import area_below_latitude_m2


class GroundMetric:
    """Measures OGR polygons on the ground (m², m) for one CRS."""

    def __init__(self, srs: osr.SpatialReference | None) -> None:
        self.srs = srs
        self.geographic = bool(srs is not None and srs.IsGeographic())
        self.unit = 1.0 if srs is None or self.geographic else (srs.GetLinearUnits() or 1.0)
        if self.geographic:
            self.a = srs.GetSemiMajor()
            inv_f = srs.GetInvFlattening()
            f = 1.0 / inv_f if inv_f else 0.0
            self.e2 = f * (2 - f)

    def area_m2(self, geometry: ogr.Geometry) -> float:
        """Area of a (multi)polygon, holes subtracted."""
        if not self.geographic:
            return geometry.GetArea() * self.unit * self.unit
        total = 0.0
        for polygon in _polygons(geometry):
            for i in range(polygon.GetGeometryCount()):
                ring_area = self._ring_area_m2(_ring_xy(polygon.GetGeometryRef(i)))
                total += ring_area if i == 0 else -ring_area
        return total

    def perimeter_m(self, geometry: ogr.Geometry) -> float:
        """Length of every ring (outer and inner) of a (multi)polygon."""
        total = 0.0
        for polygon in _polygons(geometry):
            for i in range(polygon.GetGeometryCount()):
                ring = polygon.GetGeometryRef(i)
                total += self._ring_length_m(_ring_xy(ring)) if self.geographic else ring.Length() * self.unit
        return total

    def _ring_area_m2(self, xy: np.ndarray) -> float:
        if len(xy) < 4:
            return 0.0
        below = area_below_latitude_m2(self.srs, xy[:, 1])
        dlon = np.radians(np.diff(xy[:, 0]))
        return abs(float(np.sum(dlon * (below[:-1] + below[1:]) / 2.0)))

    def _ring_length_m(self, xy: np.ndarray) -> float:
        if len(xy) < 2:
            return 0.0
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        mid = (lat[:-1] + lat[1:]) / 2.0
        w = 1.0 - self.e2 * np.sin(mid) ** 2
        east = self.a / np.sqrt(w) * np.cos(mid) * np.diff(lon)  # along the parallel: N cos(lat) dlon
        north = self.a * (1.0 - self.e2) / w**1.5 * np.diff(lat)  # along the meridian: M dlat
        return float(np.sum(np.hypot(east, north)))


def _polygons(geometry: ogr.Geometry) -> list[ogr.Geometry]:
    if ogr.GT_Flatten(geometry.GetGeometryType()) == ogr.wkbPolygon:
        return [geometry]
    return [geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())]


def _ring_xy(ring: ogr.Geometry) -> np.ndarray:
    return np.asarray(ring.GetPoints() or [], dtype=np.float64)[:, :2].reshape(-1, 2)


def without_holes(geometry: ogr.Geometry) -> ogr.Geometry:
    """The (multi)polygon with every interior ring removed."""
    out = ogr.Geometry(ogr.wkbMultiPolygon)
    for polygon in _polygons(geometry):
        filled = ogr.Geometry(ogr.wkbPolygon)
        if polygon.GetGeometryCount():
            filled.AddGeometry(polygon.GetGeometryRef(0).Clone())
            out.AddGeometry(filled)
    return out


def simplified(geometry: ogr.Geometry, tolerance: float) -> ogr.Geometry:
    """Douglas-Peucker simplification that keeps each polygon valid (the input when it would vanish)."""
    result = geometry.SimplifyPreserveTopology(tolerance)
    if result is None or result.IsEmpty() or result.GetArea() <= 0:
        return geometry
    return result
