"""Sensor profiles: detection, band roles, native resolutions, product level and reflectance scaling."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.errors import ParameterError
from changelens.core.io.pair import choose_radiometry
from changelens.core.io.raster import open_raster
from changelens.core.io.sensors import (
    GENERIC,
    LANDSAT89,
    SENTINEL1,
    SENTINEL2,
    detect_sensor,
    find_role,
    s2_level,
    s2_native_resolution_m,
)
from osgeo import gdal
from rasters import write_raster

S2_L1C = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]


def _img(tmp_path, names, value=1000.0, dtype=np.uint16, name="img.tif"):  # noqa: ANN001, ANN202
    data = np.full((len(names), 3, 3), value, dtype=dtype)
    return open_raster(write_raster(tmp_path / name, data, descriptions=names))


def test_sentinel2_l1c_and_l2a(tmp_path) -> None:  # noqa: ANN001
    l1c = _img(tmp_path, S2_L1C, name="l1c.tif")
    assert detect_sensor(l1c) is SENTINEL2 and s2_level(l1c) == "L1C"
    assert find_role(l1c, SENTINEL2, "nir_narrow", None, "x") == 9  # B8A
    assert find_role(l1c, SENTINEL2, "nir", None, "x") == 8  # B08
    assert find_role(l1c, SENTINEL2, "swir1", None, "x") == 12
    assert find_role(l1c, SENTINEL2, "cirrus", None, "x") == 11
    l2a = _img(tmp_path, ["B2", "B3", "B4", "B8", "B11", "B12", "SCL"], name="l2a.tif")
    assert s2_level(l2a) == "L2A" and find_role(l2a, SENTINEL2, "scl", None, "x") == 7
    assert [s2_native_resolution_m(b) for b in ("B02", "B8A", "B1", "B12", "VV")] == [10, 20, 60, 20, None]


def test_sentinel2_baseline_offset_from_metadata_or_user(tmp_path) -> None:  # noqa: ANN001
    path = write_raster(tmp_path / "l2a.tif", np.full((2, 3, 3), 1500, np.uint16), descriptions=["B8A", "B12"])
    ds = gdal.Open(path, gdal.GA_Update)
    ds.SetMetadataItem("BOA_ADD_OFFSET", "-1000")
    ds = None
    ds = open_raster(path)
    rad = choose_radiometry(ds, 1)
    assert 1500 * rad.scale + rad.offset == pytest.approx(0.05)
    plain = _img(tmp_path, ["B8A", "B12"], 1500.0, name="plain.tif")
    with pytest.raises(ParameterError, match="baseline-04.00 offset"):  # no metadata, values fit both
        choose_radiometry(plain, 1)
    user = choose_radiometry(plain, 1, "s2_dn_offset")
    assert 1500 * user.scale + user.offset == pytest.approx(0.05)


def test_landsat_c2_l2_scale_and_offset(tmp_path) -> None:  # noqa: ANN001
    ds = _img(tmp_path, ["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL"], 20000.0)
    assert detect_sensor(ds) is LANDSAT89
    assert find_role(ds, LANDSAT89, "swir1", None, "x") == 5
    rad = choose_radiometry(ds, 4)
    assert 20000 * rad.scale + rad.offset == pytest.approx(0.35)


def test_sentinel1_and_generic(tmp_path) -> None:  # noqa: ANN001
    s1 = _img(tmp_path, ["VV", "VH"], -12.0, np.float32, "s1.tif")
    assert detect_sensor(s1) is SENTINEL1 and find_role(s1, SENTINEL1, "vh", None, "x") == 2
    rgbn = _img(tmp_path, ["red", "green", "blue", "nir"], 0.1, np.float32, "g.tif")
    assert detect_sensor(rgbn) is GENERIC and find_role(rgbn, GENERIC, "nir", None, "x") == 4
    assert find_role(rgbn, GENERIC, "nir", 1, "x") == 1  # the user's choice wins


def test_log_names_sentinel2_level_and_native_resolution(tmp_path) -> None:  # noqa: ANN001
    from changelens.core.io.pair import DateInput, open_dates

    data = np.full((3, 4, 4), 3000, np.uint16)
    before = write_raster(tmp_path / "pre.tif", data, descriptions=["B8", "B12", "SCL"])
    after = write_raster(tmp_path / "post.tif", data, descriptions=["B8", "B12", "SCL"])
    lines: list[str] = []
    roles = ("nir", "swir2")
    dates = [DateInput(before, "pre", {}, "before", roles), DateInput(after, "post", {}, "after", roles)]
    open_dates(dates, "test", radiometry="s2_dn", log=lines.append)
    assert lines[0].startswith("pre (Sentinel-2 MSI L2A): NIR = band 1 (B8, 10 m native), SWIR2 = band 2 (B12, 20 m")
