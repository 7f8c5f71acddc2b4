"""Tiny rasters written in code with explicit CRS and geotransform."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

_GDAL_TYPES = {
    np.dtype("uint8"): gdal.GDT_Byte,
    np.dtype("uint16"): gdal.GDT_UInt16,
    np.dtype("int16"): gdal.GDT_Int16,
    np.dtype("float32"): gdal.GDT_Float32,
    np.dtype("float64"): gdal.GDT_Float64,
}

UTM33 = 32633
WGS84 = 4326
# Exact ground areas are integrated with the trapezoidal rule: numpy 2.0 renamed trapz, 2.4 removed the old name.
trapezoid = getattr(np, "trapezoid", None) or np.trapz  # noqa: NPY201 - only reached on numpy 1


def write_raster(
    path: Path | str,
    bands: np.ndarray,
    epsg: int | None = UTM33,
    geotransform: Sequence[float] = (500000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0),
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
    scale_offset: tuple[float, float] | None = None,
    driver: str = "GTiff",
) -> str:
    """Write ``bands`` (``bands x rows x cols`` or ``rows x cols``) and return the path."""
    data = bands if bands.ndim == 3 else bands[np.newaxis]
    ds = gdal.GetDriverByName(driver).Create(
        str(path), data.shape[2], data.shape[1], data.shape[0], _GDAL_TYPES[data.dtype]
    )
    ds.SetGeoTransform(list(geotransform))
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    for i in range(data.shape[0]):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(data[i])
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if descriptions:
            band.SetDescription(descriptions[i])
        if scale_offset:
            band.SetScale(scale_offset[0])
            band.SetOffset(scale_offset[1])
    ds = None
    return str(path)


def read(path: Path | str) -> np.ndarray:
    """All bands of a raster as an array (2-D for one band)."""
    return gdal.Open(str(path)).ReadAsArray()


def nbr_pair_values(nir: float, swir: float, rows: int = 4, cols: int = 5) -> np.ndarray:
    """A two-band (NIR, SWIR2) constant image in DN (reflectance x 10000)."""
    return np.stack([np.full((rows, cols), nir, np.float32), np.full((rows, cols), swir, np.float32)])
