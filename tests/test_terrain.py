"""Slope from a DEM in its own CRS (projected or geographic), put onto the image grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from changelens.core.errors import NoOverlapError
from changelens.core.io.grid import grid_of
from changelens.core.io.raster import open_raster
from changelens.core.io.terrain import slope_reader
from changelens.core.io.windows import Window
from osgeo import gdal
from rasters import write_raster

GT_UTM = (500000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0)


def _image_grid(tmp_path):  # noqa: ANN001, ANN202
    return grid_of(open_raster(write_raster(tmp_path / "img.tif", np.zeros((30, 30), np.float32), geotransform=GT_UTM)))


def _ramp(rows: int, cols: int, metres_per_px: float, degrees: float) -> np.ndarray:
    rise = math.tan(math.radians(degrees)) * metres_per_px
    return np.tile(np.arange(cols, dtype=np.float32) * rise, (rows, 1))


def test_projected_dem_on_a_coarser_grid(tmp_path) -> None:  # noqa: ANN001
    dem = write_raster(
        tmp_path / "dem.tif", _ramp(20, 20, 30.0, 20.0), geotransform=(499900.0, 30.0, 0, 5100100.0, 0, -30.0)
    )
    reader = slope_reader(dem, _image_grid(tmp_path), str(tmp_path))
    slope = reader.read(Window(0, 0, 30, 30))
    assert np.nanmedian(slope[5:25, 5:25]) == pytest.approx(20.0, abs=0.2)


def test_geographic_dem_gives_the_true_slope(tmp_path) -> None:  # noqa: ANN001
    utm = write_raster(
        tmp_path / "utm.tif", _ramp(60, 60, 10.0, 15.0), geotransform=(499800.0, 10.0, 0, 5100200.0, 0, -10.0)
    )
    geo = str(tmp_path / "geo.tif")
    gdal.Warp(geo, utm, dstSRS="EPSG:4326", resampleAlg="bilinear")
    messages: list[str] = []
    reader = slope_reader(geo, _image_grid(tmp_path), str(tmp_path), messages.append)
    slope = reader.read(Window(0, 0, 30, 30))
    assert np.nanmedian(slope[5:25, 5:25]) == pytest.approx(15.0, abs=0.7)
    assert any("UTM" in m for m in messages)


def test_dem_elsewhere_is_refused(tmp_path) -> None:  # noqa: ANN001
    far = write_raster(
        tmp_path / "far.tif", _ramp(5, 5, 10.0, 5.0), geotransform=(900000.0, 10.0, 0, 5100000.0, 0, -10.0)
    )
    with pytest.raises(NoOverlapError, match="DEM does not overlap"):
        slope_reader(far, _image_grid(tmp_path), str(tmp_path))
