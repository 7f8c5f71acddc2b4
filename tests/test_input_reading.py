"""How core reads one date: product facts, no-data rules, reflectance conversion and its check.

QGIS-free unit tests of :mod:`changelens.core.io` (products, validity, radiometry); the runs
through Processing and ``qgis_process`` are in ``test_input_cases.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.errors import ParameterError
from changelens.core.io.products import ProductInfo, band_name_from_file, product_info
from changelens.core.io.radiometry import LANDSAT_C2, check_plausible, decide_radiometry
from changelens.core.io.raster import open_raster
from changelens.core.io.validity import Fill, date_validity
from input_cases import landsat_band_files, write
from osgeo import gdal

GT = (600000, 20, 0, 4400040, 0, -20)


def _s2(values: float) -> np.ndarray:
    return np.full((8, 8), values, np.uint16)


@pytest.mark.parametrize(
    ("name", "sensor", "baseline", "offset"),
    [
        ("S2B_MSIL2A_20230801T184919_N0509_R113_T10SEG_20230801T230000.tif", "sentinel2", 5.09, -1000.0),
        ("S2A_MSIL1C_20211228T184919_N0301_R113_T10SEG_20211228T200000.tif", "sentinel2", 3.01, 0.0),
        ("LC08_L2SP_044033_20230701_20230703_02_T1_stack.tif", "landsat_oli", None, None),
        ("LE07_L2SP_044033_20030701_20200903_02_T1.tif", "landsat_etm", None, None),
        ("L8_pre_gee.tif", "landsat_oli", None, None),
        ("fire_landsat-9_post.tif", "landsat_oli", None, None),
        ("LT5_2009.tif", "landsat_tm", None, None),
        ("model_all8.tif", "", None, None),  # a digit in a word is no Landsat token
        ("cell_5.tif", "", None, None),
    ],
)
def test_product_facts_from_file_names(name, sensor, baseline, offset, tmp_path) -> None:  # noqa: ANN001
    info = product_info(open_raster(write(tmp_path / name, [_s2(3000)], GT)))
    assert (info.sensor, info.baseline, info.offset_dn) == (sensor, baseline, offset)


def test_mtl_scale_and_per_band_file_names_through_a_vrt(tmp_path) -> None:  # noqa: ANN001
    refl = np.full((8, 8), 0.3)
    vrt = landsat_band_files(tmp_path, "LC09_L2SP_044033_20230701_20230703_02_T1", refl, refl)
    info = product_info(open_raster(vrt))
    assert info.sensor == "landsat_oli" and info.level == "L2SP"
    assert info.landsat_scale[5] == pytest.approx((2.75e-5, -0.2))
    assert info.band_names == {1: "SR_B5", 2: "SR_B7"}
    assert band_name_from_file("T10SEG_20230801T184919_B8A_20m.jp2") == "B8A"


def test_sentinel2_dn0_is_no_data_whatever_the_offset(tmp_path) -> None:  # noqa: ANN001
    data = _s2(4000)
    data[:, :2] = 0
    ds = open_raster(write(tmp_path / "s.tif", [data, data], GT, names=["B8A", "B12"]))
    validity = date_validity(ds, [1, 2], "sentinel2", product_info(ds))
    assert validity.fills[1].mask(np.array([0.0, 4000.0])).tolist() == [True, False]
    assert any("25.0 % by the rule Sentinel-2 NO_DATA" in note for note in validity.notes)
    assert validity.samples[1].min() == 4000


def test_zero_frame_rule_needs_every_band_zero(tmp_path) -> None:  # noqa: ANN001
    """A pixel 0 in one band only is a value (dark water in NIR); 0 in every band is an export's outside."""
    a, b = np.full((8, 8), 0.3, np.float32), np.full((8, 8), 0.1, np.float32)
    a[0, :] = 0  # one band only
    ds = open_raster(write(tmp_path / "one.tif", [a, b], GT, dtype=gdal.GDT_Float32))
    assert not date_validity(ds, [1, 2], "", product_info(ds)).fills[1].values
    b[0, :] = 0
    ds = open_raster(write(tmp_path / "both.tif", [a, b], GT, dtype=gdal.GDT_Float32))
    validity = date_validity(ds, [1, 2], "", product_info(ds))
    assert validity.fills[1].values == (0.0,) and "every band 0" in " ".join(validity.notes)
    zeros = np.zeros((8, 8), np.float32)
    ds = open_raster(write(tmp_path / "all.tif", [zeros, zeros], GT, dtype=gdal.GDT_Float32))
    assert not date_validity(ds, [1, 2], "", product_info(ds)).fills[1].values  # all zero: data, not a frame


def test_float_fill_values() -> None:
    fill = Fill(abs_over=1e30)
    assert fill.mask(np.array([-3.4028235e38, -1e38, 0.25, np.inf])).tolist() == [True, True, False, True]


def test_sentinel2_offset_decided_by_values_below_1000() -> None:
    samples = {1: np.array([300.0, 2500.0, 4000.0] * 100)}
    rad = decide_radiometry("sentinel2", ProductInfo(), samples, {1: "B12"}, {1: None}, "auto", None, "x")
    assert rad[1].offset == 0.0 and "below 500 DN, so no +1000 offset" in rad[1].source
    with pytest.raises(ParameterError, match="Choose its reflectance conversion"):
        decide_radiometry(
            "sentinel2", ProductInfo(), {1: np.full(50, 3000.0)}, {1: "B12"}, {1: None}, "auto", None, "pre-fire image"
        )
    more = lambda: [np.full(50, 600.0)]  # noqa: E731 - a visible band of the same file settles it
    rad = decide_radiometry(
        "sentinel2", ProductInfo(), {1: np.full(50, 3000.0)}, {1: "B12"}, {1: None}, "auto", None, "x", more
    )
    assert rad[1].offset == 0.0


def test_landsat_conversion_from_values_and_names() -> None:
    samples = {1: np.full(50, 18000.0)}
    rad = decide_radiometry("landsat89", ProductInfo(), samples, {1: "SR_B5"}, {1: None}, "auto", None, "x")
    assert (rad[1].scale, rad[1].offset) == (LANDSAT_C2.scale, LANDSAT_C2.offset)
    with pytest.raises(ParameterError, match="Landsat values become reflectance"):  # Level-1 DN, no MTL
        decide_radiometry("landsat89", ProductInfo(), {1: np.full(50, 9000.0)}, {1: "B5"}, {1: None}, "auto", None, "x")


def test_plausibility_names_the_likely_conversion() -> None:
    raw = {1: np.full(100, 18182.0)}  # Landsat C2 L2 DN of reflectance 0.30
    rad = decide_radiometry("", ProductInfo(), raw, {1: ""}, {1: None}, "s2_dn", None, "x")
    with pytest.raises(ParameterError, match=r"100 % .* look like Landsat C2 L2"):
        check_plausible(raw, rad, {1: "NIR"}, "pre-fire image")
    check_plausible({1: np.full(100, 3000.0)}, {1: rad[1]}, {1: "B8"}, "x")  # 0.30: fine
