"""The input situations users reported (``../shared/cases``), each rebuilt in code from its generator.

Every case runs through the Processing registry (the desktop and script route) and, where a file
path can carry the input, through ``qgis_process.bin``; the asserts are the pixels, areas and
messages a correct run gives. Other instances of each kind are in ``test_input_kinds.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from input_cases import (
    burn_truth,
    grd_gcp,
    landsat_band_files,
    s2_dn,
    safe_l2a,
    snap_s1,
    write,
)
from input_runs import (
    BURN,
    DATE_RAD,
    RAD,
    ROUTES,
    S2_GT,
    SAR,
    RunFailed,
    assert_burn_map,
    burn_outputs,
    landsat_stacks,
    run,
    s2_stacks,
)
from osgeo import gdal
from qgis.core import QgsRasterLayer
from rasters import read

# -- s2-safe-nodata-offset: Sentinel-2 DN 0 is NO_DATA, also after the baseline-04.00 offset ---------------


def test_safe_subdatasets_as_layers_read_offset_and_no_data(request, tmp_path) -> None:  # noqa: ANN001
    """Route 1: the SAFE opened as a layer; the product metadata give the offset and DN 0 = NO_DATA."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = safe_l2a(tmp_path, "20230801", nir, swir, dn0_cols=10)
    post = safe_l2a(tmp_path, "20230901", post_nir, post_swir)
    layers = {key: QgsRasterLayer(uri, key, "gdal") for key, uri in (("PRE", pre), ("POST", post))}
    assert all(layer.isValid() for layer in layers.values())
    out = run("processing", request, BURN, {**layers, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=10, pixel_m2=400)
    assert out["VALID_AREA_HA"] == pytest.approx(138.24)


@pytest.mark.parametrize("route", ROUTES)
def test_safe_subdataset_strings_as_paths(route, request, tmp_path) -> None:  # noqa: ANN001
    """The same through a path: qgis_process (QGIS 3.22) takes a SENTINEL2_L2A: subdataset string too."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = safe_l2a(tmp_path, "20230801", nir, swir, dn0_cols=10)
    post = safe_l2a(tmp_path, "20230901", post_nir, post_swir)
    out = run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=10, pixel_m2=400)


@pytest.mark.parametrize("route", ROUTES)
def test_s2_stacks_with_offset_option_keep_dn0_as_no_data(route, request, tmp_path) -> None:  # noqa: ANN001
    """Route 2: plain stacks with the option for baseline 04.00 or later."""
    pre, post = s2_stacks(tmp_path)
    out = run(
        route, request, BURN, {"PRE": pre, "POST": post, "RADIOMETRY": RAD["s2_dn_offset"], **burn_outputs(tmp_path)}
    )
    assert_burn_map(out, nodata_cols=10, pixel_m2=400)
    assert out["VALID_AREA_HA"] == pytest.approx(138.24)


@pytest.mark.parametrize("route", ROUTES)
def test_s2_stacks_without_product_facts_ask_for_the_conversion(route, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = s2_stacks(tmp_path)
    with pytest.raises(RunFailed, match=r"baseline-04\.00 offset.*Choose its reflectance conversion"):
        run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert not list(tmp_path.glob("dnbr*")) and not list(tmp_path.glob("severity*"))


# -- s2-baseline-straddle: one date before and one after the 25 January 2022 baseline change ----------------


@pytest.mark.parametrize("route", ROUTES)
def test_baseline_straddle_converts_each_date_by_its_own_rule(route, request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B8A", "B12"]
    pre = write(tmp_path / "pre_20211228.tif", [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    post = write(tmp_path / "post_20220207.tif", [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)], S2_GT, names=names)
    with pytest.raises(RunFailed, match="Choose its reflectance conversion"):
        run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    for one in ("s2_dn", "s2_dn_offset"):  # one conversion for both dates is right for only one of them
        with pytest.raises(RunFailed, match="both sides of the Sentinel-2 processing baseline 04.00"):
            run(route, request, BURN, {"PRE": pre, "POST": post, "RADIOMETRY": RAD[one], **burn_outputs(tmp_path)})
    assert not (tmp_path / "dnbr.tif").exists() and not (tmp_path / "severity.tif").exists()
    per_date = {"PRE_RADIOMETRY": DATE_RAD["s2_dn"], "POST_RADIOMETRY": DATE_RAD["s2_dn_offset"]}
    out = run(route, request, BURN, {"PRE": pre, "POST": post, **per_date, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


# -- gee-landsat-zero-fill: an export's 0 outside its area, no no-data tag ----------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_gee_landsat_zero_fill_is_no_data(route, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = landsat_stacks(tmp_path, "L8", ["SR_B5", "SR_B7"])
    out = run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=12, pixel_m2=900)
    assert out["VALID_AREA_HA"] == pytest.approx(299.52)


# -- landsat-c2-vrt-scale: per-band USGS files stacked in a VRT, scale only in the MTL file -----------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("give_bands", [True, False])
def test_landsat_vrt_uses_the_mtl_scale(route, give_bands, request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    pre = landsat_band_files(tmp_path, "LC09_L2SP_044033_20230701_20230703_02_T1", nir, swir)
    post = landsat_band_files(tmp_path, "LC09_L2SP_044033_20230802_20230804_02_T1", post_nir, post_swir)
    bands = {"PRE_NIR_BAND": 1, "PRE_SWIR2_BAND": 2, "POST_NIR_BAND": 1, "POST_SWIR2_BAND": 2} if give_bands else {}
    out = run(route, request, BURN, {"PRE": pre, "POST": post, **bands, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=900)


# -- snap-s1-band-names: producers' Sentinel-1 band names -----------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_snap_db_band_names(route, request, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(10)
    before = snap_s1(tmp_path / "S1_before_Orb_Cal_Spk_TC_dB.tif", False, rng)
    after = snap_s1(tmp_path / "S1_after_Orb_Cal_Spk_TC_dB.tif", True, rng)
    out = run(route, request, SAR, {"BEFORE": before, "AFTER": after, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")})
    classes = read(out["OUTPUT"])
    assert int((classes == 2).sum()) == 900 and (classes[30:60, 60:90] == 2).all()
    assert int((classes == 3).sum()) == 500 and (classes[:, 40:45] == 3).all()


# -- s1-grd-gcp: rasters georeferenced by GCPs only, or not at all -------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_grd_gcp_dates_are_warped_onto_one_ground_grid(route, request, tmp_path) -> None:  # noqa: ANN001
    before = grd_gcp(tmp_path / "s1_before_vv.tif", 0, False)
    after = grd_gcp(tmp_path / "s1_after_vv.tif", 20, True)
    out = run(
        route,
        request,
        SAR,
        {"BEFORE": before, "AFTER": after, "SCALE": 3, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
    )
    ds = gdal.Open(out["OUTPUT"])
    gt = ds.GetGeoTransform()
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "4326" and gt[1] == pytest.approx(0.0001)
    classes = ds.ReadAsArray()
    first_ground_col = round((gt[0] - 7.60) / 0.0001)  # the overlap starts where the after frame starts
    assert first_ground_col == 20
    flooded, permanent = np.nonzero(classes == 2), np.nonzero(classes == 3)
    assert flooded[1].size == 800 and set(flooded[1] + first_ground_col) == set(range(60, 80))
    assert set(flooded[0]) == set(range(30, 70))
    assert permanent[1].size == 1200 and set(permanent[1] + first_ground_col) == set(range(40, 50))
    assert not (classes[:, : 30 - first_ground_col] == 2).any()  # the shifted river is no flood


# -- every case: what was decided is said once, in the log and in the report ---------------------------------


def test_every_reading_decision_once_in_the_log_and_in_the_report(request, tmp_path) -> None:  # noqa: ANN001
    """GCP warp, band and scale per date (SAR); sensor, bands, conversion and no-data rule per date (optical)."""
    from qgis.core import QgsProcessingFeedback

    import processing

    messages: list[str] = []

    class Feedback(QgsProcessingFeedback):
        def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt name
            messages.append(info)

    request.getfixturevalue("provider")
    before = grd_gcp(tmp_path / "before_vv.tif", 0, False)
    after = grd_gcp(tmp_path / "after_vv.tif", 20, True)
    params = {
        "BEFORE": before,
        "AFTER": after,
        "SCALE": 3,
        "FILTER": 3,
        "OUTPUT": str(tmp_path / "f.tif"),
        "OUTPUT_REPORT": str(tmp_path / "sar.html"),
    }
    processing.run(SAR, params, feedback=Feedback())
    pre, post = landsat_stacks(tmp_path, "L8", ["SR_B5", "SR_B7"])
    params = {"PRE": pre, "POST": post, **burn_outputs(tmp_path), "OUTPUT_REPORT": str(tmp_path / "burn.html")}
    processing.run(BURN, params, feedback=Feedback())
    decisions = {
        "sar.html": ["thin-plate spline through 25 GCPs", "VV = band 1 (VV); scale: linear amplitude as declared"],
        "burn.html": [
            "Landsat C2 L2: DN x 0.0000275 - 0.2",
            "18.8 % by the rule Landsat Collection 2 fill (DN 0)",
            "NIR_NARROW = band 1 (SR_B5)",
        ],
    }
    for report, texts in decisions.items():
        page = (tmp_path / report).read_text(encoding="utf-8")
        reading = page[page.index("Bands, conversions and masks used") :]
        for text in texts:
            logged = [m for m in messages if text in m]
            assert logged and len(logged) == len(set(logged)), (text, logged)  # logged, each line once
            assert text in reading.replace("&#x27;", "'"), text
