"""Other instances of each kind of input fault the reported cases stand for (``test_input_cases.py``).

Kinds: producers' no-data conventions (Sentinel-2 DN 0, Landsat fill 0, an export's zero frame,
float and integer fill values), the reflectance conversion of each date (product metadata and
names, Landsat MTL files, a question when nothing decides, implausible results), producers' band
names (STAC, Landsat generations, plain band numbers); for the index methods and "Run ONNX model"
alike. Sentinel-1 and georeferencing: ``test_input_georef_sar.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from input_cases import (
    BURN_ROWS,
    burn_truth,
    landsat_band_files,
    landsat_dn,
    s2_dn,
    write,
)
from input_runs import (
    BLOCK_PX,
    BURN,
    HIGH,
    LANDSAT_GT,
    RAD,
    ROUTES,
    S2_GT,
    UNBURNED,
    RunFailed,
    assert_burn_map,
    burn_outputs,
    landsat_stacks,
    run,
    s2_stacks,
)
from osgeo import gdal
from rasters import read


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
    pre, post = landsat_stacks(tmp_path, stem, names)
    out = run("processing", request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=12, pixel_m2=900)


def test_landsat_band_numbers_without_generation_ask(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = landsat_stacks(tmp_path, "export", ["SR_B5", "SR_B7"])
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


@pytest.mark.parametrize("route", ROUTES)
def test_model_inputs_get_the_same_no_data_and_conversion(route, request, tmp_path) -> None:  # noqa: ANN001
    """A reflectance model on the SAFE-export stacks: DN 0 is no data, each date's (DN - 1000) / 10000 applies."""
    from onnx_models import base_metadata, layout_model

    pre, post = s2_stacks(tmp_path)
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


# -- found by trying to break the reading (each was a silently wrong map before) -----------------------------


@pytest.mark.parametrize(
    ("fill", "dtype"),
    [(-9999.0, gdal.GDT_Float32), (-32768.0, gdal.GDT_Int16), (65535.0, gdal.GDT_UInt16)],
)
def test_a_few_percent_of_unflagged_fill_values_are_no_data(fill, dtype, request, tmp_path) -> None:  # noqa: ANN001
    """One column (1.6 %) of -9999, -32768 or 65535 with no no-data tag: below the plausibility share, yet fill."""
    nir, swir, post_nir, post_swir = burn_truth()
    scale = 1.0 if dtype == gdal.GDT_Float32 else 10000.0
    pre, post = [nir * scale, swir * scale], [post_nir * scale, post_swir * scale]
    for band in pre:
        band[:, 0] = fill
    names = ["B8A", "B12"]
    a = write(tmp_path / "pre.tif", pre, S2_GT, names=names, dtype=dtype)
    b = write(tmp_path / "post.tif", post, S2_GT, names=names, dtype=dtype)
    conversion = {} if dtype == gdal.GDT_Float32 else {"RADIOMETRY": RAD["s2_dn"]}
    out = run("processing", request, BURN, {"PRE": a, "POST": b, **conversion, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=1, pixel_m2=400)


def test_change_vectors_keep_their_threshold_beside_fill_values(request, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(5)
    first = [rng.normal(0.06, 0.004, (64, 64)), rng.normal(0.30, 0.004, (64, 64))]
    later = [b + rng.normal(0, 0.004, b.shape) for b in first]
    later[0][BURN_ROWS, BURN_ROWS], later[1][BURN_ROWS, BURN_ROWS] = 0.25, 0.10
    for band in first:
        band[:, 0] = -9999.0
    a = write(tmp_path / "d1.tif", first, S2_GT, names=["B4", "B8"], dtype=gdal.GDT_Float32)
    b = write(tmp_path / "d2.tif", later, S2_GT, names=["B4", "B8"], dtype=gdal.GDT_Float32)
    out = run(
        "processing",
        request,
        "changelens:cva",
        {"DATE1": a, "DATE2": b, "SMOOTH": 1, "OUTPUT": str(tmp_path / "c.tif")},
    )
    classes = read(out["OUTPUT"])
    assert (classes[:, 0] == 0).all() and (classes[BURN_ROWS, BURN_ROWS] == 2).all()


def test_product_name_contradicted_by_values_asks(request, tmp_path) -> None:  # noqa: ANN001
    """An export named after its product id (N0509) whose offset was removed: SWIR2 0.08 reads 800 DN."""
    nir, swir, post_nir, post_swir = burn_truth()
    swir = np.full_like(swir, 0.08)
    post_swir[post_swir == 0.10] = 0.08
    names = ["B8A", "B12"]
    stem = "S2B_MSIL2A_{}T184919_N0509_R113_T10SEG_{}T230000_B8A_B12.tif"
    a = write(tmp_path / stem.format("20230701", "20230701"), [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    b = write(tmp_path / stem.format("20230901", "20230901"), [s2_dn(post_nir), s2_dn(post_swir)], S2_GT, names=names)
    with pytest.raises(RunFailed, match="exported with the offset removed"):
        run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})


def test_offset_product_with_slightly_negative_water_asks(request, tmp_path) -> None:  # noqa: ANN001
    """Baseline 04.00+ values with 3 % water at reflectance -0.005 (995 DN): not proof of 'no offset'."""
    nir, swir, post_nir, post_swir = burn_truth()
    for band in (swir, post_swir):
        band[60:62, :] = -0.005
    names = ["B8A", "B12"]
    a = write(tmp_path / "pre.tif", [s2_dn(nir, 1000), s2_dn(swir, 1000)], S2_GT, names=names)
    b = write(tmp_path / "post.tif", [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)], S2_GT, names=names)
    with pytest.raises(RunFailed, match="Choose its reflectance conversion"):
        run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})


@pytest.mark.parametrize("kind", ["percent", "8-bit"])
def test_display_or_percent_values_are_not_digital_numbers(kind, request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    factor, dtype = (100.0, gdal.GDT_Float32) if kind == "percent" else (400.0, gdal.GDT_Byte)
    names = ["B8A", "B12"]
    a = write(tmp_path / "pre.tif", [nir * factor, swir * factor], S2_GT, names=names, dtype=dtype)
    b = write(tmp_path / "post.tif", [post_nir * factor, post_swir * factor], S2_GT, names=names, dtype=dtype)
    with pytest.raises(RunFailed, match="almost black"):
        run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})


def _named_stack(path, names: list[str], roles: dict[int, np.ndarray], dtype: int = gdal.GDT_Float32) -> str:  # noqa: ANN001
    """``names`` bands of 0.2 reflectance, except ``roles`` (0-based band -> data)."""
    return write(
        path, [roles.get(i, np.full((64, 64), 0.2)) for i in range(len(names))], S2_GT, names=names, dtype=dtype
    )


def test_landsat7_toa_names_are_not_sentinel2(request, tmp_path) -> None:  # noqa: ANN001
    """B1-B5, B6_VCID_1/2, B7, B8: Landsat 7 ETM+ (NIR is B4; B8 is panchromatic), not Sentinel-2."""
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B1", "B2", "B3", "B4", "B5", "B6_VCID_1", "B6_VCID_2", "B7", "B8"]
    a = _named_stack(tmp_path / "pre.tif", names, {3: nir, 7: swir})
    b = _named_stack(tmp_path / "post.tif", names, {3: post_nir, 7: post_swir})
    out = run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


def test_plain_numbers_with_b8_ask_which_sensor(request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B2", "B3", "B4", "B5", "B6", "B7", "B8"]
    a = _named_stack(tmp_path / "pre.tif", names, {3: nir, 5: swir})
    b = _named_stack(tmp_path / "post.tif", names, {3: post_nir, 5: post_swir})
    with pytest.raises(RunFailed, match="Sentinel-2 and Landsat number differently"):
        run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})


def test_landsat8_toa_with_qa_pixel_is_landsat8(request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9", "B10", "B11", "QA_PIXEL"]
    a = _named_stack(tmp_path / "pre.tif", names, {4: nir, 6: swir})
    b = _named_stack(tmp_path / "post.tif", names, {4: post_nir, 6: post_swir})
    out = run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


def test_sentinel2_band_set_beats_a_landsat_token_in_the_name(request, tmp_path) -> None:  # noqa: ANN001
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12"]
    a = _named_stack(tmp_path / "plot_L7_pre.tif", names, {8: nir, 11: swir})
    b = _named_stack(tmp_path / "plot_L7_post.tif", names, {8: post_nir, 11: post_swir})
    out = run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


@pytest.mark.parametrize(("band", "value", "message"), [(0, 0.0, "holds only 0"), (1, np.nan, "no valid pixel")])
def test_an_empty_band_stops_the_run(band, value, message, request, tmp_path) -> None:  # noqa: ANN001
    """A failed export (NIR all 0: NBR -1, the whole scene 'High severity') or a band all no data."""
    nir, swir, post_nir, post_swir = burn_truth()
    post = [post_nir, post_swir]
    post[band] = np.full_like(post[band], value)
    names = ["nir08", "swir22"]
    a = write(tmp_path / "pre.tif", [nir, swir], S2_GT, names=names, dtype=gdal.GDT_Float32)
    b = write(tmp_path / "post.tif", post, S2_GT, names=names, dtype=gdal.GDT_Float32)
    with pytest.raises(RunFailed, match=message):
        run("processing", request, BURN, {"PRE": a, "POST": b, **burn_outputs(tmp_path)})
    assert not list(tmp_path.glob("dnbr*"))
