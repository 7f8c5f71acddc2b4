"""The report's map images without QGIS: numpy and GDAL (warp to the frame at the map's size, PNG driver).

The command line and the cluster workers draw with :data:`GDAL_RENDERER`; inside QGIS the
Processing layer draws the same maps with QGIS's renderer (``processing/preview.py``). Everything
but the drawing is decided once in :mod:`.report_maps` (frame, bands, stretch limits, captions,
furniture), so the pictures look alike and the pages around them are identical: the inputs in the
bands and limits chosen there; the result in its class colours with the region outlines, over the
basemap (a raster file; background classes transparent, mapped classes slightly see-through) or white.
GDAL's side-car files are off while reading, so no ``.aux.xml`` appears beside an input.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Sequence

import numpy as np
from osgeo import gdal

from ..errors import ChangeLensError
from ..gdal_state import gdal_exceptions, no_side_cars
from ..io.raster import open_raster
from .products import MapProduct
from .report_facts import band_cut
from .report_maps import BASEMAP_OPACITY, PREVIEW_WIDTH_PX, RESULT_WIDTH_PX, Frame, Preview

OUTLINE_RGB = (40, 40, 40)
WHITE = 255


def _warp(path: str, frame: Frame, size: tuple[int, int], bands: tuple[int, ...], resampling: str) -> np.ndarray:
    """``bands`` of ``path`` on ``frame`` at ``size`` (bands x rows x cols float64, NaN = no data or outside)."""
    view = f"/vsimem/changelens-preview-{uuid.uuid4().hex}.vrt"
    try:
        gdal.Translate(view, path, format="VRT", bandList=list(bands))
        options = {"dstSRS": frame.crs_wkt} if frame.crs_wkt else {}
        warped = gdal.Warp(
            "", view, format="MEM", outputBounds=frame.bounds, width=size[0], height=size[1],
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


def _stretch(values: np.ndarray, limits: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """bands x rows x cols values stretched linearly to 0-255 (one or three bands -> RGB), and where there is data."""
    out = np.empty((3, *values.shape[1:]), np.uint8)
    nodata = np.zeros(values.shape[1:], bool)
    for i in range(3):
        band = values[min(i, len(values) - 1)]
        low, high = limits[min(i, len(limits) - 1)]
        high = high if high > low else low + 1
        with np.errstate(invalid="ignore"):
            out[i] = np.clip(np.round((band - low) / (high - low) * 255), 0, 255).astype(np.uint8)
        nodata |= ~np.isfinite(band)
    out[:, nodata] = WHITE
    return out, ~nodata


def _class_colours(path: str, frame: Frame, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The class raster on ``frame``: class values (-1 = no data or outside) and RGB per pixel (white there)."""
    ds = open_raster(path)
    band = ds.GetRasterBand(1)
    table = band.GetColorTable()
    nodata = band.GetNoDataValue()
    options = {"dstSRS": frame.crs_wkt} if frame.crs_wkt else {}
    warped = gdal.Warp(
        "", ds, format="MEM", outputBounds=frame.bounds, width=size[0], height=size[1], resampleAlg="near",
        outputType=gdal.GDT_Int32, srcNodata=nodata, dstNodata=-1, **options,
    )  # fmt: skip
    classes = warped.GetRasterBand(1).ReadAsArray().astype(np.int64)
    lut = np.full((max(int(classes.max(initial=0)) + 1, 256), 3), WHITE, np.uint8)
    if table is not None:
        for value in range(min(table.GetCount(), len(lut))):
            r, g, b, alpha = table.GetColorEntry(value)
            if alpha:
                lut[value] = (r, g, b)
    rgb = lut[np.clip(classes, 0, len(lut) - 1)].transpose(2, 0, 1).copy()
    rgb[:, classes < 0] = WHITE
    return classes, rgb


def _basemap_rgb(path: str, frame: Frame, size: tuple[int, int]) -> np.ndarray | None:
    """The basemap raster on ``frame``: its first three bands (or its first, in grey), as QGIS shows it by
    default: 8-bit values as they are, other types stretched between their 2 and 98 % cut."""
    try:
        ds = open_raster(path)
    except ChangeLensError:
        return None
    bands = (1, 2, 3) if ds.RasterCount >= 3 else (1,)
    byte = ds.GetRasterBand(1).DataType == gdal.GDT_Byte
    values = _warp(path, frame, size, bands, "average")
    limits = [(0.0, 255.0) if byte else band_cut(path, band) for band in bands]
    return _stretch(values, limits)[0]


class GdalRenderer:
    """Draws the report's images with numpy and GDAL (see :class:`.report_maps.MapRenderer`)."""

    def result_png(self, product: MapProduct, polygons: str | None, basemap: Any, frame: Frame) -> bytes | None:
        """The class raster in its colour table's colours, region outlines in dark grey, over ``basemap``."""
        size = frame.size(RESULT_WIDTH_PX)
        with gdal_exceptions(), no_side_cars():
            try:
                classes, rgb = _class_colours(product.class_raster, frame, size)
            except (RuntimeError, ChangeLensError):
                return None
            if basemap is not None:
                under = _basemap_rgb(str(basemap), frame, size)
                if under is not None:
                    background = [c.value for c in product.scheme.classes if c.background]
                    shown = (classes >= 0) & ~np.isin(classes, background)
                    mixed = under.astype(np.float64)
                    mixed[:, shown] = BASEMAP_OPACITY * rgb[:, shown] + (1 - BASEMAP_OPACITY) * mixed[:, shown]
                    rgb = np.round(mixed).astype(np.uint8)
            if polygons:
                edge = np.zeros(classes.shape, bool)
                edge[:, 1:] |= classes[:, 1:] != classes[:, :-1]
                edge[1:, :] |= classes[1:, :] != classes[:-1, :]
                edge &= classes >= 0
                rgb[:, edge] = np.array(OUTLINE_RGB, np.uint8)[:, None]
            return _png(rgb)

    def preview_pngs(self, previews: Sequence[Preview], frame: Frame) -> list[bytes | None]:
        """Each input in its chosen bands, stretched between its limits; no data white."""
        size = frame.size(PREVIEW_WIDTH_PX)
        out: list[bytes | None] = []
        with gdal_exceptions(), no_side_cars():
            for preview in previews:
                try:
                    values = _warp(preview.path, frame, size, preview.bands, "average")
                except RuntimeError:
                    out.append(None)
                    continue
                out.append(_png(_stretch(values, preview.limits)[0]))
        return out

    def basemap_name(self, basemap: Any) -> str:
        """The basemap file's name without folder and extension (as QGIS names a layer loaded from a file)."""
        return os.path.splitext(os.path.basename(str(basemap)))[0]


GDAL_RENDERER = GdalRenderer()
