"""SAR scale detection, dB conversion and speckle filters on tiny arrays."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.engine.filters import median_filter, refined_lee, speckle_filter
from changelens.core.errors import EmptyDataError, ParameterError
from changelens.core.io.raster import BandReader, open_raster
from changelens.core.io.sar import detect_scale, to_db
from rasters import write_raster


def _check(tmp_path, values: np.ndarray, declared: str):  # noqa: ANN001, ANN202
    path = write_raster(tmp_path / "s1.tif", values, nodata=0 if values.dtype == np.uint8 else None)
    ds = open_raster(path)
    return detect_scale(BandReader(ds, 1), ds.GetRasterBand(1).DataType, declared, "after image")


def test_scale_detection(tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    db = rng.normal(-12, 4, (20, 20)).astype(np.float32)
    assert _check(tmp_path, db, "auto").scale == "db"
    display = rng.integers(1, 255, (20, 20)).astype(np.uint8)
    assert _check(tmp_path, display, "auto").scale == "display8"
    power = (10 ** (db / 10)).astype(np.float32)
    with pytest.raises(ParameterError, match="Cannot tell the scale"):
        _check(tmp_path, power, "auto")
    assert _check(tmp_path, power, "power").scale == "power"


def test_declared_db_that_is_not_db_is_refused(tmp_path) -> None:  # noqa: ANN001
    display = np.random.default_rng(1).integers(1, 255, (20, 20)).astype(np.uint8)
    with pytest.raises(ParameterError, match="declared as dB but its values are not dB"):
        _check(tmp_path, display, "db")
    power = np.random.default_rng(1).gamma(4.4, 0.05 / 4.4, (20, 20)).astype(np.float32)
    with pytest.raises(ParameterError, match="not dB"):
        _check(tmp_path, power, "db")
    with pytest.raises(ParameterError, match="negative values"):
        _check(tmp_path, np.full((4, 4), -12.0, np.float32), "power")


def test_all_nodata_band_is_refused(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(EmptyDataError, match="no valid pixel"):
        _check(tmp_path, np.full((4, 4), np.nan, np.float32), "auto")


def test_to_db() -> None:
    v = np.array([0.1, 0.01, 0.0], np.float32)
    assert to_db(v, "power")[:2] == pytest.approx([-10.0, -20.0])
    assert np.isnan(to_db(v, "power")[2])
    assert to_db(np.array([0.1], np.float32), "amplitude")[0] == pytest.approx(-20.0)
    assert to_db(v, "db") is v


def test_median_filter_ignores_nan_and_returns_core() -> None:
    a = np.arange(25, dtype=np.float32).reshape(5, 5)
    a[2, 2] = 1000.0  # an outlier is removed
    out = median_filter(a, 3)
    assert out.shape == (3, 3)
    assert out[1, 1] == pytest.approx(np.median([6, 7, 8, 11, 13, 16, 17, 18, 1000]))
    b = np.full((3, 3), np.nan, np.float32)
    b[0, 0], b[2, 2] = 2.0, 4.0
    assert median_filter(b, 3)[0, 0] == pytest.approx(3.0)


def test_refined_lee_smooths_speckle_and_keeps_an_edge() -> None:
    rng = np.random.default_rng(3)
    mean = np.where(np.arange(40)[None, :] < 20, 0.02, 0.2) * np.ones((40, 1))
    speckled = (mean * rng.gamma(4.4, 1 / 4.4, mean.shape)).astype(np.float32)
    out = refined_lee(speckled, 7)
    core = mean[3:-3, 3:-3]
    raw = speckled[3:-3, 3:-3]
    assert out.shape == core.shape
    # Noise drops by a large factor on each side...
    for side in (slice(0, 12), slice(22, 34)):
        assert np.std(out[:, side] / core[:, side]) < 0.5 * np.std(raw[:, side] / core[:, side])
    # ...and the edge stays sharp: the columns right beside it keep their side's level.
    assert np.median(out[:, 16]) < 0.04 and np.median(out[:, 17]) > 0.1
    assert refined_lee(np.full((9, 9), 0.05, np.float32), 7) == pytest.approx(np.full((3, 3), 0.05), rel=1e-5)


def test_speckle_filter_chunks_match_whole() -> None:
    rng = np.random.default_rng(4)
    db = rng.normal(-12, 3, (80, 30)).astype(np.float32)
    whole = speckle_filter(db, "median", 5, "db")
    assert whole.shape == (76, 26)
    assert np.allclose(whole[:10], median_filter(db[:14], 5), equal_nan=True)


def test_water_guard_keeps_automatic_thresholds_at_plausible_water_levels(tmp_path) -> None:  # noqa: ANN001
    from changelens.core.methods.declaration import RunRequest
    from changelens.core.methods.flood_sar import SarFlood, SarFloodConfig, plausible_water_threshold
    from changelens.core.pipeline import run_method
    from osgeo import gdal

    def run_sar_flood(after: str, out: str, config: SarFloodConfig, log=lambda _m: None) -> None:  # noqa: ANN001
        run_method(SarFlood(), RunRequest({"after": after}, config, {"classes": out}), log=log)

    assert plausible_water_threshold(-17.0, ["vv"]) == (-17.0, "")
    assert plausible_water_threshold(-12.0, ["vv", "vh"])[0] == -18.5  # mean of the VV and VH ceilings
    assert "little or no open water" in plausible_water_threshold(-12.0, ["vh"])[1]
    assert plausible_water_threshold(-31.0, ["vh"])[0] == -27.0
    # A dry scene (land only, no dark mode): Otsu splits the land, the guard keeps it from becoming water.
    rng = np.random.default_rng(3)
    land = rng.normal(-9.0, 1.5, (64, 64)).astype(np.float32)
    land[:, 32:] -= 4.0  # two kinds of dry land: a clear bimodal histogram, but no water
    path = write_raster(tmp_path / "dry.tif", land, descriptions=["VV"])
    out = str(tmp_path / "dry_flood.tif")
    log: list[str] = []
    run_sar_flood(path, out, SarFloodConfig(scale="db"), log.append)
    assert (gdal.Open(out).ReadAsArray() == 2).mean() < 0.01
    assert any("little or no open water" in line for line in log)
    unguarded = str(tmp_path / "unguarded.tif")
    run_sar_flood(path, unguarded, SarFloodConfig(scale="db", water_guard=False))
    assert (gdal.Open(unguarded).ReadAsArray() == 2).mean() > 0.3
