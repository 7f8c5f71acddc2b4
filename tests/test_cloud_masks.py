"""Cloud masks for dates that carry none: the optional ukis-csmask package, and what happens without it.

With ukis-csmask installed, a real Sentinel-2 chip of the shared data (skipped without it) gets a synthetic
cloud painted in, and the mask computed through the plugin makes it no data. Without the package, the
option says what it needs and every other choice runs as before.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from products import s2_safe, scl_with_cloud, surface_map
from rasters import read
from routes import ROUTES, RunFailed, run, run_logged

HAS_CSMASK = importlib.util.find_spec("ukis_csmask") is not None
CHIP = Path("flood") / "sen1floods11" / "Spain_7370579" / "S2Hand.tif"
# Top-of-atmosphere reflectance of a thick cloud per Sentinel-2 band (B1 ... B12 as in the chip).
CLOUD = (0.70, 0.75, 0.72, 0.72, 0.74, 0.76, 0.77, 0.78, 0.78, 0.30, 0.05, 0.52, 0.38)


def _clouded_chip(shared: Path, folder: Path) -> tuple[str, np.ndarray]:
    """The chip with a round cloud (Gaussian edge) painted into every band; returns it and the cloud's core."""
    source = gdal.Open(str(shared / CHIP))
    path = folder / "S2_L1C_chip_clouded.tif"
    ds = gdal.Translate(str(path), source)
    rows, cols = ds.RasterYSize, ds.RasterXSize
    yy, xx = np.mgrid[0:rows, 0:cols]
    alpha = np.clip(1.6 * np.exp(-(((yy / rows - 0.5) ** 2 + (xx / cols - 0.5) ** 2) / (2 * 0.12**2))), 0, 1)
    for index, cloud in enumerate(CLOUD, start=1):
        band = ds.GetRasterBand(index)
        values = band.ReadAsArray().astype(np.float64)
        band.WriteArray(np.round(values * (1 - alpha) + cloud * 10000 * alpha).astype(np.int16))
    ds = None
    return str(path), alpha


@pytest.mark.skipif(not HAS_CSMASK, reason="ukis-csmask is not installed (pip install --no-deps ukis-csmask)")
@pytest.mark.parametrize("route", ROUTES)
def test_csmask_masks_a_cloud_on_a_real_chip(route, request, shared_data, tmp_path) -> None:  # noqa: ANN001
    chip, alpha = _clouded_chip(shared_data, tmp_path)
    params = {"AFTER": chip, "CLOUD_MASK": 2, "THRESHOLD_METHOD": 2, "OUTPUT": str(tmp_path / "flood.tif")}
    out = run(route, request, "changelens:opticalflood", params)
    classes = read(out["OUTPUT"])
    core, clear = alpha > 0.9, alpha < 0.05
    assert (classes[core] == 0).mean() > 0.95  # the cloud is no data
    assert (classes[clear] == 0).mean() < 0.3  # most of the clear chip is kept


@pytest.mark.skipif(not HAS_CSMASK, reason="ukis-csmask is not installed (pip install --no-deps ukis-csmask)")
def test_csmask_log_names_the_package_its_api_and_model(request, shared_data, tmp_path) -> None:  # noqa: ANN001
    chip, alpha = _clouded_chip(shared_data, tmp_path)
    params = {"AFTER": chip, "CLOUD_MASK": 2, "THRESHOLD_METHOD": 2, "OUTPUT": str(tmp_path / "flood.tif")}
    _out, log = run_logged(request, "changelens:opticalflood", params)
    assert "ukis-csmask 1.0.0 computed one (its CSmask API, model 1.0.0-6BL1C, L1C, 6 bands" in log
    assert "cloud mask ukis-csmask 1.0.0 (model 1.0.0-6BL1C)" in log and "valid pixels masked" in log
    unmasked = run("processing", request, "changelens:opticalflood", {**params, "CLOUD_MASK": 0})
    assert (read(unmasked["OUTPUT"])[alpha > 0.9] != 0).all()  # automatic: the chip carries no mask


def test_without_the_package_the_option_explains_itself(request, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "ukis_csmask", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "ukis_csmask.mask", None)
    pre = s2_safe(tmp_path, "20230801", surface_map(None))
    post = s2_safe(tmp_path, "20230901", surface_map("burned"), scl=scl_with_cloud(slice(0, 6), slice(0, 6)))
    params = {
        "PRE": str(pre),
        "POST": str(post),
        "OUTPUT_SEVERITY": str(tmp_path / "s.tif"),
        "OUTPUT_DNBR": str(tmp_path / "d.tif"),
    }
    with pytest.raises(RunFailed, match=r"needs the optional ukis-csmask package .* install it with Doctor"):
        run("processing", request, "changelens:burnseverity", {**params, "CLOUD_MASK": 2})  # the pre date has none
    assert not (tmp_path / "s.tif").exists()
    out, log = run_logged(request, "changelens:burnseverity", params)  # the default runs as before
    assert "cloud mask Sentinel-2 SCL" in log and int((read(out["OUTPUT_SEVERITY"]) == 0).sum()) == 36


def test_a_product_mask_needs_no_package(request, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "ukis_csmask", None)
    monkeypatch.setitem(sys.modules, "ukis_csmask.mask", None)
    scl = scl_with_cloud(slice(0, 6), slice(0, 6))
    pre = s2_safe(tmp_path, "20230801", surface_map(None), scl=scl)
    post = s2_safe(tmp_path, "20230901", surface_map("burned"), scl=scl)
    params = {
        "PRE": str(pre),
        "POST": str(post),
        "CLOUD_MASK": 2,
        "OUTPUT_SEVERITY": str(tmp_path / "s.tif"),
        "OUTPUT_DNBR": str(tmp_path / "d.tif"),
    }
    out = run("processing", request, "changelens:burnseverity", params)
    assert int((read(out["OUTPUT_SEVERITY"]) == 0).sum()) == 36
