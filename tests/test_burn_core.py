"""dNBR arithmetic and severity classes, checked against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.methods.burn import BurnSeverity, BurnSeverityConfig, burn_indices, classify_dnbr
from changelens.core.methods.declaration import RunRequest
from changelens.core.pipeline import run_method
from rasters import read, write_raster


def test_classes_follow_usgs_breaks() -> None:
    d = np.array([-0.3, -0.251, -0.2, -0.101, -0.1, 0.099, 0.1, 0.269, 0.27, 0.439, 0.44, 0.659, 0.66, np.nan])
    assert classify_dnbr(d).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 0]


def test_indices_by_hand() -> None:
    nir_pre, swir_pre = np.array([0.4], np.float32), np.array([0.1], np.float32)
    nir_post, swir_post = np.array([0.15], np.float32), np.array([0.25], np.float32)
    out = burn_indices(nir_pre, swir_pre, nir_post, swir_post)
    nbr_pre, nbr_post = 0.3 / 0.5, -0.1 / 0.4
    d = nbr_pre - nbr_post
    assert out["dnbr"][0] == pytest.approx(d, abs=1e-6)
    assert out["rdnbr"][0] == pytest.approx(d / np.sqrt(nbr_pre), abs=1e-6)
    assert out["rbr"][0] == pytest.approx(d / (nbr_pre + 1.001), abs=1e-6)


def test_run_writes_exact_values_and_nodata(tmp_path) -> None:  # noqa: ANN001
    pre = np.stack([np.full((3, 4), 4000, np.float32), np.full((3, 4), 1000, np.float32)])
    post = np.stack([np.full((3, 4), 1500, np.float32), np.full((3, 4), 2500, np.float32)])
    pre[0, 0, 0] = np.nan
    post[1, 2, 3] = np.nan
    names = ["B8", "B12"]
    a = write_raster(tmp_path / "pre.tif", pre, descriptions=names)
    b = write_raster(tmp_path / "post.tif", post, descriptions=names)
    outputs = {"dnbr": str(tmp_path / "d.tif"), "severity": str(tmp_path / "s.tif")}
    config = BurnSeverityConfig(radiometry="s2_dn")  # DN = reflectance x 10000, values leave the offset open
    res = run_method(BurnSeverity(), RunRequest({"before": a, "after": b}, config, outputs))
    d = read(tmp_path / "d.tif")
    s = read(tmp_path / "s.tif")
    assert np.isnan(d[0, 0]) and np.isnan(d[2, 3]) and s[0, 0] == 0 and s[2, 3] == 0
    assert d[1, 1] == pytest.approx(0.85, abs=1e-6)
    assert (s == 7).sum() == 10
    assert res.stats.pixels[7] == 10 and res.stats.area_m2[7] == pytest.approx(1000.0)


def test_log_names_the_conversion_of_every_band(tmp_path) -> None:  # noqa: ANN001
    """When only NIR carries a scale/offset, the log says so instead of naming SWIR2's conversion alone."""
    from osgeo import gdal

    data = np.stack([np.full((3, 4), 4000, np.uint16), np.full((3, 4), 900, np.uint16)])  # 900 DN: no +1000 offset
    a = write_raster(tmp_path / "pre.tif", data, descriptions=["B8", "B12"])
    b = write_raster(tmp_path / "post.tif", data, descriptions=["B8", "B12"])
    for path in (a, b):
        ds = gdal.Open(path, gdal.GA_Update)
        ds.GetRasterBand(1).SetScale(0.0001)
        ds = None
    lines: list[str] = []
    request = RunRequest({"before": a, "after": b}, BurnSeverityConfig(), {"dnbr": str(tmp_path / "d.tif")})
    run_method(BurnSeverity(), request, log=lines.append)
    pre_line = next(line for line in lines if line.startswith("pre-fire image"))
    assert "band metadata" in pre_line and "digital numbers / 10000" in pre_line
    assert read(tmp_path / "d.tif") == pytest.approx(np.zeros((3, 4)))
