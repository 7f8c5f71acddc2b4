"""The input situations users reported (``../shared/cases``) and other instances of each kind.

Every case runs through the Processing registry (the desktop and script route) and, where a file
path can carry the input, through ``qgis_process.bin``; the asserts are the pixels, areas and
messages a correct run gives. Kinds: producers' no-data conventions (Sentinel-2 DN 0, Landsat fill
0, an export's zero frame, float fills), the reflectance conversion of each date (product metadata,
Landsat MTL files, a baseline change between the dates, a question when nothing decides),
producers' band names (SNAP, Landsat generations), and rasters georeferenced by GCPs or not at all.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from changelens.core.io.radiometry import DATE_RADIOMETRY_CHOICES, RADIOMETRY_CHOICES
from input_cases import (
    BURN_ROWS,
    burn_truth,
    grd_gcp,
    landsat_band_files,
    landsat_dn,
    s2_dn,
    safe_l2a,
    snap_s1,
    write,
)
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsRasterLayer
from qgis_process_runner import run_algorithm
from rasters import read

BURN, SAR = "changelens:burnseverity", "changelens:sarflood"
RAD = {key: index for index, (key, _label) in enumerate(RADIOMETRY_CHOICES)}
DATE_RAD = {key: index for index, (key, _label) in enumerate(DATE_RADIOMETRY_CHOICES)}
ROUTES = ("processing", "qgis_process")
S2_GT, LANDSAT_GT = (600000, 20, 0, 4400040, 0, -20), (500000, 30, 0, 4300020, 0, -30)
BLOCK_PX = 32 * 32
HIGH, UNBURNED, REGROWTH = 7, 3, (1, 2)


class RunFailed(Exception):
    """The run stopped with an error; the message is what the user read."""


def run(route: str, request: pytest.FixtureRequest, algorithm: str, params: dict[str, Any]) -> dict[str, Any]:
    """Results of ``algorithm`` through ``route``; :class:`RunFailed` with the user's message on an error."""
    if route == "processing":
        import processing

        request.getfixturevalue("provider")
        try:
            return processing.run(algorithm, params)
        except QgsProcessingException as exc:
            raise RunFailed(str(exc)) from exc
    env = dict(request.getfixturevalue("qgis_process_env"))
    spec = importlib.util.find_spec("onnxruntime")  # qgis_process runs the system Python: show it the venv's
    if spec and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
    code, payload, log = run_algorithm(env, algorithm, {k: str(v) for k, v in params.items()})
    if code != 0:
        raise RunFailed(log)
    return payload["results"]


def burn_outputs(folder: Path) -> dict[str, str]:
    return {"OUTPUT_DNBR": str(folder / "dnbr.tif"), "OUTPUT_SEVERITY": str(folder / "severity.tif")}


def assert_burn_map(out: dict[str, Any], nodata_cols: int, pixel_m2: float) -> None:
    """Block rows/cols 16-47 High severity (dNBR 0.75), other valid pixels Unburned (0.00), the first
    ``nodata_cols`` columns no data (severity 0, dNBR NaN), areas from ``pixel_m2``."""
    dnbr, severity = read(out["OUTPUT_DNBR"]), read(out["OUTPUT_SEVERITY"])
    assert np.isnan(dnbr[:, :nodata_cols]).all() and (severity[:, :nodata_cols] == 0).all()
    valid = np.ones(severity.shape, bool)
    valid[:, :nodata_cols] = False
    block = np.zeros(severity.shape, bool)
    block[BURN_ROWS, BURN_ROWS] = True
    assert (severity[block] == HIGH).all() and np.allclose(dnbr[block], 0.75, atol=1e-3)
    assert (severity[valid & ~block] == UNBURNED).all() and np.allclose(dnbr[valid & ~block], 0.0, atol=1e-3)
    assert not np.isin(severity, REGROWTH).any()
    assert out["VALID_AREA_HA"] == pytest.approx(int(valid.sum()) * pixel_m2 / 1e4)
    assert out["BURNED_AREA_HA"] == pytest.approx(BLOCK_PX * pixel_m2 / 1e4)


# -- s2-safe-nodata-offset: Sentinel-2 DN 0 is NO_DATA, also after the baseline-04.00 offset ---------------


def _s2_stacks(folder: Path, nodata_cols: int = 10) -> tuple[str, str]:
    """The case's plain stacks exported from the SAFE: B8A/B12 with the +1000 offset, DN 0 in the first
    columns of the pre-fire stack, no no-data flag, no product metadata."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = [s2_dn(nir, 1000), s2_dn(swir, 1000)]
    for band in pre:
        band[:, :nodata_cols] = 0
    names = ["B8A", "B12"]
    return (
        write(folder / "stack_pre_pb0509.tif", pre, S2_GT, names=names),
        write(folder / "stack_post_pb0509.tif", [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)], S2_GT, names=names),
    )


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
def test_s2_stacks_with_offset_option_keep_dn0_as_no_data(route, request, tmp_path) -> None:  # noqa: ANN001
    """Route 2: plain stacks with the option for baseline 04.00 or later."""
    pre, post = _s2_stacks(tmp_path)
    out = run(
        route, request, BURN, {"PRE": pre, "POST": post, "RADIOMETRY": RAD["s2_dn_offset"], **burn_outputs(tmp_path)}
    )
    assert_burn_map(out, nodata_cols=10, pixel_m2=400)
    assert out["VALID_AREA_HA"] == pytest.approx(138.24)


@pytest.mark.parametrize("route", ROUTES)
def test_s2_stacks_without_product_facts_ask_for_the_conversion(route, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _s2_stacks(tmp_path)
    with pytest.raises(RunFailed, match=r"baseline-04\.00 offset.*Choose its reflectance conversion"):
        run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert not list(tmp_path.glob("dnbr*")) and not list(tmp_path.glob("severity*"))


def test_s2_values_below_1000_dn_rule_out_the_offset(request, tmp_path) -> None:  # noqa: ANN001
    """Another instance: a pre-baseline-04.00 stack whose SWIR2 reads 0.05 (500 DN) needs no question."""
    nir, swir, post_nir, post_swir = burn_truth()
    swir = np.full_like(swir, 0.05)
    post_swir[:] = np.where(post_swir == 0.10, 0.05, post_swir)
    names = ["B8A", "B12"]
    pre = write(tmp_path / "pre.tif", [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    post = write(tmp_path / "post.tif", [s2_dn(post_nir), s2_dn(post_swir)], S2_GT, names=names)
    out = run("processing", request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    severity = read(out["OUTPUT_SEVERITY"])
    assert (severity[BURN_ROWS, BURN_ROWS] == HIGH).all() and severity[0, 0] == UNBURNED


# -- s2-baseline-straddle: one date before and one after the 25 January 2022 baseline change ----------------


@pytest.mark.parametrize("route", ROUTES)
def test_baseline_straddle_converts_each_date_by_its_own_rule(route, request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B8A", "B12"]
    pre = write(tmp_path / "pre_20211228.tif", [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    post = write(tmp_path / "post_20220207.tif", [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)], S2_GT, names=names)
    with pytest.raises(RunFailed, match="Choose its reflectance conversion"):
        run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    per_date = {"PRE_RADIOMETRY": DATE_RAD["s2_dn"], "POST_RADIOMETRY": DATE_RAD["s2_dn_offset"]}
    out = run(route, request, BURN, {"PRE": pre, "POST": post, **per_date, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


def test_baseline_straddle_from_product_names(request, tmp_path) -> None:  # noqa: ANN001
    """Product names (N0301 before, N0400 after) settle each date's offset with no option given."""
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B8A", "B12"]
    pre = write(
        tmp_path / "S2A_MSIL2A_20211228T184919_N0301_R113_T10SEG_20211228T200000.tif",
        [s2_dn(nir), s2_dn(swir)],
        S2_GT,
        names=names,
    )
    post = write(
        tmp_path / "S2A_MSIL2A_20220207T184919_N0400_R113_T10SEG_20220207T200000.tif",
        [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)],
        S2_GT,
        names=names,
    )
    out = run("processing", request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


# -- gee-landsat-zero-fill: an export's 0 outside its area, no no-data tag ----------------------------------


def _landsat_stacks(folder: Path, stem: str, names: list[str], nodata_cols: int = 12) -> tuple[str, str]:
    nir, swir, post_nir, post_swir = burn_truth()
    pre = [landsat_dn(nir), landsat_dn(swir)]
    for band in pre:
        band[:, :nodata_cols] = 0
    return (
        write(folder / f"{stem}_pre_gee.tif", pre, LANDSAT_GT, names=names),
        write(folder / f"{stem}_post_gee.tif", [landsat_dn(post_nir), landsat_dn(post_swir)], LANDSAT_GT, names=names),
    )


@pytest.mark.parametrize("route", ROUTES)
def test_gee_landsat_zero_fill_is_no_data(route, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _landsat_stacks(tmp_path, "L8", ["SR_B5", "SR_B7"])
    out = run(route, request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=12, pixel_m2=900)
    assert out["VALID_AREA_HA"] == pytest.approx(299.52)


@pytest.mark.parametrize(
    ("stem", "names"),
    [
        ("LC09_044033_20230701", ["SR_B5", "SR_B7"]),  # product-id prefix
        ("Landsat8", ["SR_B5", "SR_B7"]),
        ("L5", ["SR_B4", "SR_B7"]),  # Landsat 4-7 numbering: NIR is SR_B4
        ("landsat_7", ["SR_B4", "SR_B7"]),
    ],
)
def test_landsat_generation_from_file_names(stem, names, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _landsat_stacks(tmp_path, stem, names)
    out = run("processing", request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=12, pixel_m2=900)


def test_landsat_band_numbers_without_generation_ask(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _landsat_stacks(tmp_path, "export", ["SR_B5", "SR_B7"])
    with pytest.raises(RunFailed, match="Landsat 8/9 OLI or Landsat 4-7 TM/ETM"):
        run("processing", request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})


def test_export_zero_frame_of_an_unnamed_reflectance_stack(request, tmp_path) -> None:  # noqa: ANN001
    """Another producer: float reflectance stacks (no names, bands given) with 0 in every band outside."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = [nir.astype(np.float32), swir.astype(np.float32)]
    for band in pre:
        band[:, :12] = 0
    a = write(tmp_path / "pre.tif", pre, S2_GT, dtype=gdal.GDT_Float32)
    b = write(tmp_path / "post.tif", [post_nir, post_swir], S2_GT, dtype=gdal.GDT_Float32)
    bands = {"PRE_NIR_BAND": 1, "PRE_SWIR2_BAND": 2, "POST_NIR_BAND": 1, "POST_SWIR2_BAND": 2}
    out = run("processing", request, BURN, {"PRE": a, "POST": b, **bands, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=12, pixel_m2=400)


@pytest.mark.parametrize("fill", [-3.4028234663852886e38, -1e38, np.nan])
def test_float_fill_values_without_a_flag_are_no_data(fill, request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    post = [post_nir.astype(np.float32), post_swir.astype(np.float32)]
    for band in post:
        band[:, :5] = fill
    names = ["B8A", "B12"]
    a = write(tmp_path / "pre.tif", [nir, swir], S2_GT, names=names, dtype=gdal.GDT_Float32)
    b = write(tmp_path / "post.tif", post, S2_GT, names=names, dtype=gdal.GDT_Float32)
    out = run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=5, pixel_m2=400)


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


def test_landsat_dn_declared_as_sentinel2_is_refused(request, tmp_path) -> None:  # noqa: ANN001
    """The wrong conversion (DN / 10000 gives reflectance 1.8) stops the run and names the likely one."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = landsat_band_files(tmp_path, "LC09_L2SP_044033_20230701_20230703_02_T1", nir, swir)
    post = landsat_band_files(tmp_path, "LC09_L2SP_044033_20230802_20230804_02_T1", post_nir, post_swir)
    with pytest.raises(RunFailed, match=r"not reflectance.*look like Landsat C2 L2"):
        run(
            "processing",
            request,
            BURN,
            {"PRE": pre, "POST": post, "RADIOMETRY": RAD["s2_dn"], **burn_outputs(tmp_path)},
        )
    assert not list(tmp_path.glob("dnbr*"))


def test_unnamed_dn_stack_without_product_asks(request, tmp_path) -> None:  # noqa: ANN001
    """No names, no MTL, no product id: Landsat DN are not silently read as Sentinel-2 DN."""
    nir, swir, post_nir, post_swir = burn_truth()
    a = write(tmp_path / "a.tif", [landsat_dn(nir), landsat_dn(swir)], LANDSAT_GT)
    b = write(tmp_path / "b.tif", [landsat_dn(post_nir), landsat_dn(post_swir)], LANDSAT_GT)
    bands = {"PRE_NIR_BAND": 1, "PRE_SWIR2_BAND": 2, "POST_NIR_BAND": 1, "POST_SWIR2_BAND": 2}
    with pytest.raises(RunFailed, match="Choose its reflectance conversion"):
        run("processing", request, BURN, {"PRE": a, "POST": b, **bands, **burn_outputs(tmp_path)})
    out = run(
        "processing",
        request,
        BURN,
        {"PRE": a, "POST": b, **bands, "RADIOMETRY": RAD["landsat_c2"], **burn_outputs(tmp_path)},
    )
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


@pytest.mark.parametrize(
    ("names", "scale"),
    [
        (["Gamma0_VH_dB", "Gamma0_VV_dB"], "db"),
        (["Sigma0_VH", "Sigma0_VV"], "power"),
        (["Amplitude_VH", "Amplitude_VV"], "amplitude_dn"),  # SNAP's uncalibrated GRD amplitude
        (["vh", "vv"], "db"),
    ],
)
def test_other_sentinel1_band_names(names, scale, request, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(11)
    paths = []
    for stem, flood in (("before", False), ("after", True)):
        source = gdal.Open(snap_s1(tmp_path / f"{stem}_src.tif", flood, rng))
        bands = [source.GetRasterBand(i).ReadAsArray() for i in (1, 2)]
        if scale == "power":
            bands = [(10 ** (b / 10)).astype(np.float32) for b in bands]
        elif scale == "amplitude_dn":  # DN = sqrt(sigma0) x a calibration constant
            bands = [(np.sqrt(10 ** (b / 10)) * 800).astype(np.float32) for b in bands]
        paths.append(write(tmp_path / f"{stem}.tif", bands, source.GetGeoTransform(), 4326, names, gdal.GDT_Float32))
    out = run(
        "processing",
        request,
        SAR,
        {"BEFORE": paths[0], "AFTER": paths[1], "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
    )
    classes = read(out["OUTPUT"])
    assert int((classes == 2).sum()) == 900 and int((classes == 3).sum()) == 500


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


def test_few_gcps_use_a_polynomial_and_say_so(request, tmp_path) -> None:  # noqa: ANN001
    before = grd_gcp(tmp_path / "before.tif", 0, False)
    after = grd_gcp(tmp_path / "after.tif", 20, True)
    for path in (before, after):
        ds = gdal.Open(path, gdal.GA_Update)
        gcps = ds.GetGCPs()
        ds.SetGCPs([gcps[i] for i in (0, 4, 20, 24)], ds.GetGCPProjection())
        ds = None
    messages: list[str] = []
    from qgis.core import QgsProcessingFeedback

    class Feedback(QgsProcessingFeedback):
        def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt name
            messages.append(info)

    import processing

    request.getfixturevalue("provider")
    out = processing.run(
        SAR,
        {"BEFORE": before, "AFTER": after, "SCALE": 3, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
        feedback=Feedback(),
    )
    assert any("first-order polynomial through 4 GCPs" in m for m in messages)
    assert int((read(out["OUTPUT"]) == 2).sum()) == 800


@pytest.mark.parametrize("route", ROUTES)
def test_rasters_without_georeferencing(route, request, tmp_path) -> None:  # noqa: ANN001
    """Refused with what to do; declared pixel-aligned, mapped with areas unknown (never 1 m² pixels)."""
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B8A", "B12"]
    a = write(tmp_path / "pre.png.tif", [s2_dn(nir), s2_dn(swir)], None, None, names)
    b = write(tmp_path / "post.png.tif", [s2_dn(post_nir), s2_dn(post_swir)], None, None, names)
    base = {"PRE": a, "POST": b, "RADIOMETRY": RAD["s2_dn"], **burn_outputs(tmp_path)}
    with pytest.raises(RunFailed, match="no georeferencing"):
        run(route, request, BURN, base)
    out = run(route, request, BURN, {**base, "PIXEL_ALIGNED": True})
    severity = read(out["OUTPUT_SEVERITY"])
    assert int((severity == HIGH).sum()) == BLOCK_PX
    assert out["BURNED_AREA_HA"] is None and out["VALID_AREA_HA"] is None


# -- "Run ONNX model": model inputs go through the same reading -------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_model_inputs_get_the_same_no_data_and_conversion(route, request, tmp_path) -> None:  # noqa: ANN001
    """A reflectance model on the SAFE-export stacks: DN 0 is no data, each date's (DN - 1000) / 10000 applies."""
    from onnx_models import base_metadata, layout_model

    pre, post = _s2_stacks(tmp_path)
    meta = base_metadata(layout="separate", bands=["B8A"], values="reflectance")
    model = layout_model(tmp_path / "m.onnx", "separate", meta)
    params = {
        "MODEL_FILE": model,
        "IMAGE": pre,
        "AFTER": post,
        "RADIOMETRY": RAD["s2_dn_offset"],
        "THREADS": 1,
        "OUTPUT_CLASSES": str(tmp_path / "c.tif"),
        "OUTPUT_PROBABILITY": str(tmp_path / "p.tif"),
        "OUTPUT_REPORT": str(tmp_path / "model.html"),
    }
    out = run(route, request, "changelens:runmodel", params)
    page = (tmp_path / "model.html").read_text(encoding="utf-8")
    reading = page[page.index("Bands, conversions and masks used") :]
    assert "15.6 % by the rule Sentinel-2 NO_DATA (DN 0)" in reading and "(DN - 1000) / 10000" in reading
    classes, after = read(out["OUTPUT_CLASSES"]), read(out["OUTPUT_PROBABILITY"])  # probability = after NIR
    assert (classes[:, :10] == 255).all() and np.isnan(after[:, :10]).all()  # the pre-fire DN 0 strip
    block = np.zeros(classes.shape, bool)
    block[BURN_ROWS, BURN_ROWS] = True
    block[:, :10] = False
    rest = ~block
    rest[:, :10] = False
    assert np.allclose(after[block], 0.15, atol=1e-4) and np.allclose(after[rest], 0.30, atol=1e-4)
    with pytest.raises(RunFailed, match="Choose its reflectance conversion"):
        run(route, request, "changelens:runmodel", {**params, "RADIOMETRY": RAD["auto"]})


@pytest.mark.parametrize("route", ROUTES)
def test_change_vectors_read_the_same_no_data(route, request, tmp_path) -> None:  # noqa: ANN001
    """Change vector analysis compares bands as stored, with the same no-data rules (Sentinel-2 DN 0 here)."""
    rng = np.random.default_rng(3)
    red, nir = rng.integers(600, 660, (64, 64)), rng.integers(3000, 3060, (64, 64))
    later_red, later_nir = red + rng.integers(-30, 30, red.shape), nir + rng.integers(-30, 30, nir.shape)
    later_red[BURN_ROWS, BURN_ROWS], later_nir[BURN_ROWS, BURN_ROWS] = 2500, 1000
    first = [red.astype(np.uint16), nir.astype(np.uint16)]
    for band in first:
        band[:, :8] = 0
    names = ["B4", "B8"]
    a = write(tmp_path / "d1.tif", first, S2_GT, names=names)
    b = write(tmp_path / "d2.tif", [later_red.astype(np.uint16), later_nir.astype(np.uint16)], S2_GT, names=names)
    params = {"DATE1": a, "DATE2": b, "SMOOTH": 1, "OUTPUT": str(tmp_path / "c.tif")}
    out = run(route, request, "changelens:cva", params)
    classes = read(out["OUTPUT"])
    assert (classes[:, :8] == 0).all()  # no data, not "change"
    assert (classes[BURN_ROWS, BURN_ROWS] == 2).all() and int((classes == 2).sum()) == BLOCK_PX


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
    pre, post = _landsat_stacks(tmp_path, "L8", ["SR_B5", "SR_B7"])
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
