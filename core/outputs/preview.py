"""Map previews for the report without QGIS: numpy and GDAL (warp to the preview size, PNG driver).

The command line and the cluster workers use these; inside QGIS the Processing layer renders
the same three maps with QGIS's renderer (``processing/preview.py``). Both follow the same
rules, so the pictures look alike but are not byte-identical: the before and after images
stretched alike between their 2 and 98 % cumulative cut (each alone when their value scales
differ), in true colour, else SWIR2/NIR/red false colour, else grey; the result in its class
colours with the region outlines, on white. Captions are identical (:func:`extent_text`).
"""

from __future__ import annotations

import math
import uuid

import numpy as np
from osgeo import gdal, osr

from ..errors import ChangeLensError
from ..gdal_state import gdal_exceptions
from ..io.grid import Grid, grid_of
from ..io.raster import open_raster
from .products import MapProduct
from .report import display_bands

PREVIEW_WIDTH_PX = 560
MAX_HEIGHT_PX = 700
MAX_OUTLINED_POLYGONS = 20000  # beyond this, outlines blur into noise at preview size
OUTLINE_RGB = (40, 40, 40)


def preview_size(width: float, height: float) -> tuple[int, int]:
    """Pixel size of a preview of an extent ``width`` x ``height`` (any one unit), as QGIS renders it."""
    ratio = height / width if width > 0 else 1.0
    out_w, out_h = PREVIEW_WIDTH_PX, max(60, min(MAX_HEIGHT_PX, round(PREVIEW_WIDTH_PX * ratio)))
    if round(PREVIEW_WIDTH_PX * ratio) > MAX_HEIGHT_PX:
        out_w = max(60, round(MAX_HEIGHT_PX / ratio))
    return out_w, out_h


def _geodesic_m(a: float, f: float, lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on the ellipsoid (Vincenty's inverse formula; spherical fallback where it does not converge)."""
    b = a * (1 - f)
    lam0 = lam = math.radians(lon2 - lon1)
    u1, u2 = math.atan((1 - f) * math.tan(math.radians(lat1))), math.atan((1 - f) * math.tan(math.radians(lat2)))
    su1, cu1, su2, cu2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
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


def ground_size_m(grid: Grid) -> tuple[float, float] | None:
    """Ground width and height (m) of ``grid``'s extent through its middle, on its ellipsoid; None without a CRS."""
    srs = grid.srs()
    if srs is None:
        return None
    xmin, ymin, xmax, ymax = grid.bounds
    mid_x, mid_y = (xmin + xmax) / 2, (ymin + ymax) / 2
    geographic = srs.CloneGeogCS()
    geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_geo = osr.CoordinateTransformation(srs, geographic)
    a, inv_f = srs.GetSemiMajor(), srs.GetInvFlattening()
    f = 1 / inv_f if inv_f else 0.0
    sizes = []
    for p, q in (((xmin, mid_y), (xmax, mid_y)), ((mid_x, ymin), (mid_x, ymax))):
        (lon1, lat1, _), (lon2, lat2, _) = to_geo.TransformPoint(*p), to_geo.TransformPoint(*q)
        sizes.append(_geodesic_m(a, f, lon1, lat1, lon2, lat2))
    return sizes[0], sizes[1]


def crs_name(grid: Grid) -> str:
    """``EPSG:32633`` (authority and code), or ``unknown CRS``."""
    srs = grid.srs()
    if srs is None:
        return "unknown CRS"
    name, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    if not (name and code) and srs.AutoIdentifyEPSG() == 0:
        name, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    return f"{name}:{code}" if name and code else "unknown CRS"


def extent_text(grid: Grid) -> str:
    """Ground size of the mapped extent and its CRS, e.g. ``3.2 x 2.1 km, EPSG:32633``."""
    size = ground_size_m(grid)
    if size is None:
        xmin, ymin, xmax, ymax = grid.bounds
        return f"{xmax - xmin:,.0f} x {ymax - ymin:,.0f} map units, unknown CRS"
    width, height = size
    if max(width, height) >= 1000:
        digits = 1 if max(width, height) < 100000 else 0
        text = f"{width / 1000:,.{digits}f} x {height / 1000:,.{digits}f} km"
    else:
        text = f"{width:,.0f} x {height:,.0f} m"
    return f"{text}, {crs_name(grid)}"


def _warp(path: str, grid: Grid, size: tuple[int, int], bands: tuple[int, ...], resampling: str) -> np.ndarray:
    """``bands`` of ``path`` on ``grid``'s extent at ``size`` (bands x rows x cols float64, NaN = no data)."""
    view = f"/vsimem/changelens-preview-{uuid.uuid4().hex}.vrt"
    try:
        gdal.Translate(view, path, format="VRT", bandList=list(bands))
        xmin, ymin, xmax, ymax = grid.bounds
        options = {"dstSRS": grid.crs_wkt} if grid.crs_wkt else {}
        warped = gdal.Warp(
            "", view, format="MEM", outputBounds=(xmin, ymin, xmax, ymax), width=size[0], height=size[1],
            resampleAlg=resampling, dstNodata=float("nan"), outputType=gdal.GDT_Float64, **options,
        )  # fmt: skip
        return warped.ReadAsArray().reshape(len(bands), size[1], size[0])
    finally:
        _unlink(view)


def _unlink(*paths: str) -> None:
    for path in paths:
        if gdal.VSIStatL(path) is not None:
            gdal.Unlink(path)


def _png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB image (3 x rows x cols uint8)."""
    bands, rows, cols = rgb.shape
    mem = gdal.GetDriverByName("MEM").Create("", cols, rows, bands, gdal.GDT_Byte)
    for i in range(bands):
        mem.GetRasterBand(i + 1).WriteArray(rgb[i])
    target = f"/vsimem/changelens-preview-{uuid.uuid4().hex}.png"
    try:
        gdal.GetDriverByName("PNG").CreateCopy(target, mem, options=["ZLEVEL=6"])
        handle = gdal.VSIFOpenL(target, "rb")
        try:
            gdal.VSIFSeekL(handle, 0, 2)
            length = gdal.VSIFTellL(handle)
            gdal.VSIFSeekL(handle, 0, 0)
            return bytes(gdal.VSIFReadL(1, length, handle))
        finally:
            gdal.VSIFCloseL(handle)
    finally:
        _unlink(target, target + ".aux.xml")


def _cut(values: np.ndarray) -> tuple[float, float]:
    """The 2-98 % cumulative cut of the finite values (0, 1 when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, [2, 98])
    return float(low), float(high)


def _stretch(values: np.ndarray, limits: list[tuple[float, float]]) -> np.ndarray:
    """bands x rows x cols values stretched linearly to 0-255 (one or three bands -> RGB, no data white)."""
    out = np.empty((3, *values.shape[1:]), np.uint8)
    nodata = np.zeros(values.shape[1:], bool)
    for i in range(3):
        band = values[min(i, len(values) - 1)]
        low, high = limits[min(i, len(limits) - 1)]
        high = high if high > low else low + 1
        with np.errstate(invalid="ignore"):
            out[i] = np.clip(np.round((band - low) / (high - low) * 255), 0, 255).astype(np.uint8)
        nodata |= ~np.isfinite(band)
    out[:, nodata] = 255
    return out


def input_pngs(inputs: list[tuple[str, str]], grid: Grid, size: tuple[int, int]) -> list[tuple[str, bytes]]:
    """PNG previews of ``(label, path)`` inputs on ``grid``'s extent, before and after stretched alike."""
    opened = []
    for label, path in inputs:
        bands = display_bands(path)
        if bands is not None:
            opened.append((label, path, bands))
    if not opened:
        return []
    if len({len(bands) for _l, _p, bands in opened}) != 1:
        opened = [(label, path, bands[:1]) for label, path, bands in opened]
    arrays = []
    for label, path, bands in opened:
        try:
            arrays.append((label, _warp(path, grid, size, bands, "average")))
        except RuntimeError:
            continue
    if not arrays:
        return []
    cuts = [[_cut(values[i]) for i in range(len(values))] for _label, values in arrays]
    highs = [max(abs(c[i][1]) for c in cuts) / max(min(abs(c[i][1]) for c in cuts), 1e-12) for i in range(len(cuts[0]))]
    if max(highs) > 4:  # different value scales (e.g. reflectance x 10000 and 8-bit TCI): stretch each alone
        return [(label, _png(_stretch(values, own))) for (label, values), own in zip(arrays, cuts)]
    limits = [(min(c[i][0] for c in cuts), max(c[i][1] for c in cuts)) for i in range(len(cuts[0]))]
    return [(label, _png(_stretch(values, limits))) for label, values in arrays]


def class_png(path: str, size: tuple[int, int], outlines: bool) -> bytes:
    """The class raster in its colour table's colours (no data white), region outlines in dark grey."""
    ds = open_raster(path)
    band = ds.GetRasterBand(1)
    table = band.GetColorTable()
    nodata = band.GetNoDataValue()
    warped = gdal.Warp("", ds, format="MEM", width=size[0], height=size[1], resampleAlg="near")
    classes = warped.GetRasterBand(1).ReadAsArray().astype(np.int64)
    lut = np.full((max(int(classes.max(initial=0)) + 1, 256), 3), 255, np.uint8)
    if table is not None:
        for value in range(min(table.GetCount(), len(lut))):
            r, g, b, alpha = table.GetColorEntry(value)
            if alpha:
                lut[value] = (r, g, b)
    if nodata is not None and 0 <= nodata < len(lut):
        lut[int(nodata)] = 255
    rgb = lut[np.clip(classes, 0, len(lut) - 1)].transpose(2, 0, 1).copy()
    if outlines:
        edge = np.zeros(classes.shape, bool)
        edge[:, 1:] |= classes[:, 1:] != classes[:, :-1]
        edge[1:, :] |= classes[1:, :] != classes[:-1, :]
        rgb[:, edge] = np.array(OUTLINE_RGB, np.uint8)[:, None]
    return _png(rgb)


def render_previews(product: MapProduct, polygons: str | None, polygon_count: int = 0) -> list[tuple[str, bytes]]:
    """PNG previews of the first two inputs (before, after) and of the result, on the result's extent.

    ``polygons`` (the staged polygon file, or None) turns on the region outlines, as long as there
    are at most :data:`MAX_OUTLINED_POLYGONS` of them. Returns ``(caption, PNG bytes)`` pairs.
    """
    with gdal_exceptions():
        try:
            grid = grid_of(open_raster(product.class_raster))
        except (RuntimeError, ChangeLensError):  # an unreadable class raster: no previews rather than no report
            return []
        xmin, ymin, xmax, ymax = grid.bounds
        size = preview_size(xmax - xmin, ymax - ymin)
        images = input_pngs(list(product.inputs[:2]), grid, size)
        outlined = bool(polygons) and polygon_count <= MAX_OUTLINED_POLYGONS
        caption = f"Result: {product.title}" + (" with polygons" if outlined else "")
        caption += f" · {extent_text(grid)}"
        images.append((caption, class_png(product.class_raster, size, outlined)))
        return images
