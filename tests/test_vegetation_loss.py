"""Vegetation loss (NDVI and NDMI drop): pixel rule by hand, Sentinel-2 and Landsat scenes, thresholds, qgis_process."""

from __future__ import annotations

import os

import numpy as np
import pytest
from qgis.core import QgsProcessingException
from qgis_process_runner import run_algorithm
from rasters import read, write_raster

ALG = "changelens:vegetationloss"
# Reflectance of red, NIR, SWIR1 (x 10000 in the files).
FOREST = (300, 3500, 1500)  # NDVI 0.84, NDMI 0.40
CLEAR_CUT = (900, 2200, 2400)  # NDVI 0.42, NDMI -0.04
BARE = (1800, 2300, 2800)  # not vegetated before: cannot lose vegetation
LIGHTER = (350, 3300, 1550)  # a little drier canopy: no loss
BARER = (2600, 2300, 3600)  # bare ground drying out: both indices drop, but it had no vegetation to lose


def _scene(tmp_path, name, patches, names=("B4", "B8", "B11"), noise=15.0, scale=1.0, offset=0.0):  # noqa: ANN001, ANN202
    img = np.stack([np.full((50, 60), v, np.float32) for v in FOREST])
    img[:, 40:, :15] = np.array(BARE, np.float32)[:, None, None]
    for (rows, cols), values in patches:
        img[:, rows, cols] = np.array(values, np.float32)[:, None, None]
    img += np.random.default_rng(len(name)).normal(0, noise, img.shape).astype(np.float32)
    return write_raster(tmp_path / name, (img * scale + offset).astype(np.float32), descriptions=list(names))


CUT = ((slice(5, 20), slice(30, 50)), CLEAR_CUT)
DRIER = ((slice(25, 35), slice(0, 60)), LIGHTER)
DRIED_BARE = ((slice(42, 50), slice(0, 15)), BARER)


def test_drops_and_classes_by_hand() -> None:
    from changelens.core.methods.vegetation_loss import index_drops, loss_classes

    red0, nir0, swir0 = (np.array([v / 1e4], np.float32) for v in FOREST)
    red1, nir1, swir1 = (np.array([v / 1e4], np.float32) for v in CLEAR_CUT)
    ndvi0, ndvi_drop, ndmi_drop = index_drops(red0, nir0, swir0, red1, nir1, swir1)
    assert ndvi0[0] == pytest.approx(3200 / 3800, abs=1e-6)
    assert ndvi_drop[0] == pytest.approx(3200 / 3800 - 1300 / 3100, abs=1e-6)
    assert ndmi_drop[0] == pytest.approx(2000 / 5000 - (-200) / 4600, abs=1e-6)
    thresholds = {"ndvi": 0.1, "ndmi": 0.1}
    assert loss_classes(ndvi0, ndvi_drop, ndmi_drop, thresholds, 0.4).tolist() == [2]
    assert loss_classes(ndvi0, ndvi_drop, ndmi_drop, thresholds, 0.9).tolist() == [1]  # was not vegetated enough
    assert loss_classes(ndvi0, ndvi_drop, np.array([np.nan], np.float32), thresholds, 0.4).tolist() == [0]


@pytest.mark.parametrize(
    ("names", "scale", "offset"),
    [
        (("B4", "B8", "B11"), 1.0, 0.0),  # Sentinel-2 DN = reflectance x 10000
        (("SR_B4", "SR_B5", "SR_B6"), 1 / 2.75, 0.2 / 2.75e-5),  # Landsat 8/9 C2 L2 DN
    ],
)
def test_clear_cut_mapped_drier_canopy_and_bare_ground_not(provider, tmp_path, names, scale, offset) -> None:  # noqa: ANN001
    import processing

    before = _scene(tmp_path, "before.tif", (), names, scale=scale, offset=offset)
    after = _scene(tmp_path, "after.tif", (CUT, DRIER, DRIED_BARE), names, scale=scale, offset=offset)
    out = processing.run(
        ALG,
        {
            "BEFORE": before,
            "AFTER": after,
            "OUTPUT": str(tmp_path / "loss.tif"),
            "OUTPUT_NDMI_DROP": str(tmp_path / "ndmi.tif"),
            "OUTPUT_POLYGONS": str(tmp_path / "loss.gpkg"),
        },
    )
    classes = read(out["OUTPUT"])
    expected = np.ones((50, 60), np.uint8)
    expected[5:20, 30:50] = 2
    assert np.array_equal(classes, expected)
    assert out["LOSS_AREA_HA"] == pytest.approx(15 * 20 * 100 / 1e4)
    assert out["POLYGON_COUNT"] == 1 and os.path.exists(str(tmp_path / "loss.qml"))
    assert 0.1 <= out["THRESHOLD"] < 0.4


def test_user_thresholds_and_minimum_mapping_unit(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    speck = ((slice(45, 47), slice(50, 52)), CLEAR_CUT)  # 4 pixels = 400 m2
    before = _scene(tmp_path, "before.tif", ())
    after = _scene(tmp_path, "after.tif", (CUT, DRIER, speck))
    params = {"BEFORE": before, "AFTER": after, "THRESHOLD_METHOD": 2, "NDVI_DROP": 0.3, "NDMI_DROP": 0.3}
    out = processing.run(ALG, {**params, "OUTPUT": str(tmp_path / "a.tif")})
    assert out["LOSS_AREA_HA"] == pytest.approx((300 + 4) * 100 / 1e4) and out["THRESHOLD"] == pytest.approx(0.3)
    sieved = processing.run(ALG, {**params, "OUTPUT": str(tmp_path / "b.tif"), "MIN_AREA_M2": 1000})
    assert sieved["LOSS_AREA_HA"] == pytest.approx(300 * 100 / 1e4)
    strict = processing.run(ALG, {**params, "NDMI_DROP": 0.5, "OUTPUT": str(tmp_path / "c.tif")})
    assert strict["LOSS_AREA_HA"] == 0


def test_no_vegetation_before_is_one_clear_error(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    bare = write_raster(tmp_path / "bare.tif", np.stack([np.full((20, 20), v, np.float32) for v in BARE]),
                        descriptions=["B4", "B8", "B11"])  # fmt: skip
    with pytest.raises(QgsProcessingException, match="No pixel of the before image is vegetated"):
        processing.run(ALG, {"BEFORE": bare, "AFTER": bare, "RADIOMETRY": 1, "OUTPUT": str(tmp_path / "o.tif")})
    assert sorted(os.listdir(tmp_path)) == ["bare.tif"]


def test_qgis_process_run(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    before = _scene(tmp_path, "before.tif", ())
    after = _scene(tmp_path, "after.tif", (CUT,))
    code, payload, log = run_algorithm(
        qgis_process_env, ALG, {"BEFORE": before, "AFTER": after, "OUTPUT": str(tmp_path / "o.tif")}
    )
    assert code == 0, log
    assert payload["results"]["LOSS_AREA_HA"] == pytest.approx(3.0)
    assert "NDMI drop >=" in log and "Vegetation loss: 3.00 ha" in log
