"""Pixel grids and aligning a second raster onto the first one's grid.

The second date is put onto the first date's grid through an in-memory GDAL VRT
warp (other CRS, pixel size, shift or extent), cropped to where both overlap.
Input files are only read, never modified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from osgeo import gdal, osr

from ..errors import InputError, NoOverlapError
from .windows import Window

RESAMPLING = ("nearest", "bilinear", "cubic", "average")
# Approximate metres per degree (WGS 84) for turning a pixel size in degrees into metres.
METRES_PER_DEGREE_LAT = 110574.0
METRES_PER_DEGREE_LON_AT_EQUATOR = 111320.0


def metres_per_degree(lat_deg: float) -> tuple[float, float]:
    """(east-west, north-south) metres per degree at latitude ``lat_deg``; approximate, for pixel sizes only."""
    return METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat_deg)), METRES_PER_DEGREE_LAT


def ground_pixel_size_m(grid: Grid) -> tuple[float, float] | None:
    """(east-west, north-south) ground size of a pixel in metres, at the grid's centre for geographic CRSs.

    Both axes matter: a pixel of 0.00018 x 0.00018 degrees at 34 degrees north is 16.6 m wide and
    19.9 m tall. None when the grid has no CRS.
    """
    srs = grid.srs()
    if srs is None:
        return None
    if srs.IsGeographic():
        per_x, per_y = metres_per_degree((grid.bounds[1] + grid.bounds[3]) / 2.0)
        return grid.pixel_width * per_x, grid.pixel_height * per_y
    unit = srs.GetLinearUnits() or 1.0
    return grid.pixel_width * unit, grid.pixel_height * unit


def pixel_size_text(size: tuple[float, float]) -> str:
    """``16.6 x 19.9 m`` (east-west x north-south), or ``20 m`` for square pixels."""
    x, y = size
    if abs(x - y) <= 0.005 * max(x, y):
        return f"{x:.3g} m"
    return f"{x:.3g} x {y:.3g} m"


def srs_of(crs_wkt: str) -> osr.SpatialReference | None:
    """The CRS of ``crs_wkt`` as an OSR object with GIS (x, y) axis order, or None when it is empty."""
    if not crs_wkt:
        return None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(crs_wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: CRS (WKT, may be empty), geotransform and size."""

    crs_wkt: str
    geotransform: tuple[float, float, float, float, float, float]
    width_px: int
    height_px: int

    @property
    def pixel_width(self) -> float:
        """Pixel width in CRS units (positive)."""
        return abs(self.geotransform[1])

    @property
    def pixel_height(self) -> float:
        """Pixel height in CRS units (positive)."""
        return abs(self.geotransform[5])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in CRS units."""
        x0, dx, _, y0, _, dy = self.geotransform
        xs = (x0, x0 + dx * self.width_px)
        ys = (y0, y0 + dy * self.height_px)
        return min(xs), min(ys), max(xs), max(ys)

    def srs(self) -> osr.SpatialReference | None:
        """The CRS as an OSR object with GIS (x, y) axis order, or None when unknown."""
        return srs_of(self.crs_wkt)

    def subgrid(self, window: Window) -> Grid:
        """The grid of ``window`` inside this grid."""
        x0, dx, rx, y0, ry, dy = self.geotransform
        gt = (
            x0 + window.col_off * dx + window.row_off * rx,
            dx,
            rx,
            y0 + window.col_off * ry + window.row_off * dy,
            ry,
            dy,
        )
        return Grid(self.crs_wkt, gt, window.width, window.height)

    def same_as(self, other: Grid) -> bool:
        """True when both grids are the same pixels on the ground."""
        if (self.width_px, self.height_px) != (other.width_px, other.height_px):
            return False
        if not same_crs(self.crs_wkt, other.crs_wkt):
            return False
        tol = 1e-6 * max(self.pixel_width, self.pixel_height)
        return all(abs(a - b) <= tol for a, b in zip(self.geotransform, other.geotransform))


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    """True when two WKT strings describe the same CRS (both empty counts as same)."""
    if not wkt_a or not wkt_b:
        return not wkt_a and not wkt_b
    a = osr.SpatialReference(wkt=wkt_a)
    b = osr.SpatialReference(wkt=wkt_b)
    return bool(a.IsSame(b))


def grid_of(ds: gdal.Dataset) -> Grid:
    """The grid of a dataset; rotated grids are refused."""
    gt = tuple(float(v) for v in ds.GetGeoTransform(can_return_null=False) or (0, 1, 0, 0, 0, 1))
    if gt[2] != 0 or gt[4] != 0:
        raise InputError("Rotated rasters are not supported: warp the image to a north-up grid first.")
    return Grid(ds.GetProjection() or "", gt, ds.RasterXSize, ds.RasterYSize)  # type: ignore[arg-type]


def _bounds_in(grid: Grid, target: Grid) -> tuple[float, float, float, float]:
    """``grid``'s bounds expressed in ``target``'s CRS (densified edges)."""
    src, dst = grid.srs(), target.srs()
    if src is None or dst is None or src.IsSame(dst):
        return grid.bounds
    transform = osr.CoordinateTransformation(src, dst)
    xmin, ymin, xmax, ymax = grid.bounds
    try:
        return tuple(transform.TransformBounds(xmin, ymin, xmax, ymax, 21))  # type: ignore[return-value]
    except RuntimeError as exc:
        raise NoOverlapError(f"The two rasters' extents cannot be compared across CRSs ({exc}).") from exc


def intersection_window(reference: Grid, other: Grid) -> Window:
    """The window of ``reference`` covered by ``other`` (pixel-snapped outwards)."""
    if bool(reference.crs_wkt) != bool(other.crs_wkt):
        raise InputError("One raster has a coordinate reference system and the other has none: assign a CRS to both.")
    if not reference.crs_wkt:
        if (reference.width_px, reference.height_px) != (other.width_px, other.height_px):
            raise InputError("Rasters without a CRS must have the same size in pixels.")
        return Window(0, 0, reference.width_px, reference.height_px)
    oxmin, oymin, oxmax, oymax = _bounds_in(other, reference)
    x0, dx, _, y0, _, dy = reference.geotransform
    cols = sorted(((oxmin - x0) / dx, (oxmax - x0) / dx))
    rows = sorted(((oymin - y0) / dy, (oymax - y0) / dy))
    eps = 1e-6
    col0 = max(int(math.floor(cols[0] + eps)), 0)
    col1 = min(int(math.ceil(cols[1] - eps)), reference.width_px)
    row0 = max(int(math.floor(rows[0] + eps)), 0)
    row1 = min(int(math.ceil(rows[1] - eps)), reference.height_px)
    if col1 <= col0 or row1 <= row0:
        raise NoOverlapError("The two rasters do not overlap: check that they cover the same area.")
    return Window(col0, row0, col1 - col0, row1 - row0)


def crop(ds: gdal.Dataset, window: Window) -> gdal.Dataset:
    """A lightweight VRT view of ``window`` of ``ds`` (the source file is untouched)."""
    if window == Window(0, 0, ds.RasterXSize, ds.RasterYSize):
        return ds
    return gdal.Translate("", ds, format="VRT", srcWin=[window.col_off, window.row_off, window.width, window.height])


def warp_to_grid(
    ds: gdal.Dataset, grid: Grid, resampling: str = "bilinear", fill_value: float | None = None
) -> gdal.Dataset:
    """A virtual (VRT) view of ``ds`` resampled onto ``grid``; outside pixels are NaN.

    Values keep their stored units (the source bands' scale/offset are applied by
    the reader); the view is Float32 so that no data can be NaN.
    """
    if resampling not in RESAMPLING:
        raise InputError(f"Unknown resampling '{resampling}'; use one of {', '.join(RESAMPLING)}.")
    if grid.same_as(grid_of(ds)):
        return ds
    src_nodata = [ds.GetRasterBand(i).GetNoDataValue() for i in range(1, ds.RasterCount + 1)]
    if fill_value is not None and all(v is None for v in src_nodata):
        src_nodata = [fill_value] * ds.RasterCount
    nodata = src_nodata[0]
    options = gdal.WarpOptions(
        format="VRT",
        outputBounds=grid.bounds,
        width=grid.width_px,
        height=grid.height_px,
        dstSRS=grid.crs_wkt or None,
        resampleAlg=resampling,
        outputType=gdal.GDT_Float32,
        srcNodata=None if nodata is None or any(v != nodata for v in src_nodata) else nodata,
        dstNodata=float("nan"),
        multithread=False,
    )
    return gdal.Warp("", ds, options=options)


@dataclass
class AlignedPair:
    """Two datasets presented on one common grid (the reference grid's intersection)."""

    grid: Grid
    reference: gdal.Dataset
    other: gdal.Dataset
    reference_window: Window
    sources: tuple[gdal.Dataset, ...] = ()


def align_pair(reference: gdal.Dataset, other: gdal.Dataset, resampling: str = "bilinear") -> AlignedPair:
    """Present ``other`` on ``reference``'s grid, both cropped to their overlap."""
    ref_grid = grid_of(reference)
    window = intersection_window(ref_grid, grid_of(other))
    grid = ref_grid.subgrid(window)
    return AlignedPair(grid, crop(reference, window), warp_to_grid(other, grid, resampling), window, (reference, other))


def grid_of_overlap(datasets: list[gdal.Dataset]) -> tuple[Grid, Window]:
    """The first dataset's grid cropped to the area every dataset covers, and that window of the first
    dataset; raises :class:`NoOverlapError`."""
    ref_grid = grid_of(datasets[0])
    window = Window(0, 0, ref_grid.width_px, ref_grid.height_px)
    for ds in datasets[1:]:
        window = window.intersection(intersection_window(ref_grid, grid_of(ds)))
        if window.size == 0:
            raise NoOverlapError("The rasters have no area in common: check that they cover the same place.")
    return ref_grid.subgrid(window), window


def align_many(
    reference: gdal.Dataset,
    others: list[gdal.Dataset],
    resampling: str = "bilinear",
    fill_values: list[float | None] | None = None,
) -> tuple[Grid, gdal.Dataset, list[gdal.Dataset]]:
    """Like :func:`align_pair` for any number of rasters: the common grid is the intersection of all.

    ``fill_values`` (one per other raster) are raw values the warp must not blend into valid
    pixels (a product's no-data convention that the file does not flag).
    """
    grid, window = grid_of_overlap([reference, *others])
    fills = fill_values or [None] * len(others)
    return grid, crop(reference, window), [warp_to_grid(ds, grid, resampling, f) for ds, f in zip(others, fills)]


def pixel_area_rows_m2(grid: Grid, row_off: int, height_px: int) -> np.ndarray:
    """Area in m² of one pixel on each of ``height_px`` rows from ``row_off``.

    Projected CRSs use the pixel size times the linear unit; geographic CRSs use
    the exact area of the pixel on the CRS's ellipsoid (authalic formula). Without a CRS the
    ground size of a pixel is unknown: NaN (never 1 m² identity pixels).
    """
    srs = grid.srs()
    if srs is None:
        return np.full(height_px, np.nan, dtype=np.float64)
    if not srs.IsGeographic():
        unit = srs.GetLinearUnits() or 1.0
        return np.full(height_px, grid.pixel_width * grid.pixel_height * unit * unit, dtype=np.float64)
    y0, dy = grid.geotransform[3], grid.geotransform[5]
    edges = y0 + dy * (row_off + np.arange(height_px + 1, dtype=np.float64))
    return np.abs(np.diff(area_below_latitude_m2(srs, edges))) * math.radians(grid.pixel_width)


def centre_pixel_area_m2(grid: Grid) -> float:
    """Ground area of a pixel on the grid's centre row (turns m² thresholds into pixel counts)."""
    return float(pixel_area_rows_m2(grid, grid.height_px // 2, 1)[0])


def area_below_latitude_m2(srs: osr.SpatialReference, lat_deg: np.ndarray) -> np.ndarray:
    """Ellipsoidal area between the equator and each latitude, per radian of longitude (m², signed).

    ``lat_deg`` is any shape of latitudes in degrees; the result has the same shape. The difference
    between two latitudes times a longitude span in radians is the exact area of that lat/lon cell on
    the CRS's ellipsoid (authalic latitude formula, Snyder 1987); polygon areas integrate it.
    """
    a = srs.GetSemiMajor()
    inv_f = srs.GetInvFlattening()
    f = 1.0 / inv_f if inv_f else 0.0
    b = a * (1 - f)
    e2 = 1 - (b * b) / (a * a)
    e = math.sqrt(e2)
    sin = np.sin(np.clip(np.radians(np.asarray(lat_deg, dtype=np.float64)), -math.pi / 2, math.pi / 2))
    if e > 0:
        q = sin / (1 - e2 * sin * sin) + np.log((1 + e * sin) / (1 - e * sin)) / (2 * e)
    else:
        q = 2 * sin
    return q * b * b / 2.0
