"""Tiled ONNX inference in core: stitching, layouts, band mapping, preprocessing, no data, errors."""

from __future__ import annotations

import os

import numpy as np
import onnxruntime as ort
import pytest
from changelens.core.errors import (
    BandNotFoundError,
    CancelledError,
    InputError,
    ModelFileError,
    ModelMetadataError,
    ParameterError,
    ProviderError,
)
from changelens.core.models import tiling
from changelens.core.models.inference import InferenceConfig, InferenceOutputs, run_model
from changelens.core.models.runtime import clear_sessions, get_session
from onnx_models import base_metadata, conv_model, difference_model, identity_model, layout_model
from rasters import read, write_raster

RNG = np.random.default_rng(42)


def _outputs(tmp_path, name: str = "out") -> InferenceOutputs:  # noqa: ANN001
    return InferenceOutputs(str(tmp_path / f"{name}_classes.tif"), str(tmp_path / f"{name}_prob.tif"))


def test_identity_model_probabilities_classes_and_product(tmp_path) -> None:  # noqa: ANN001
    img = RNG.random((2, 45, 70)).astype(np.float32)
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B4", "B8"])
    model = identity_model(tmp_path / "id.onnx")
    logs: list[str] = []
    product = run_model(model, [raster], _outputs(tmp_path), log=logs.append)
    prob, classes = read(product.measure_raster), read(product.class_raster)
    assert np.allclose(prob, img[1], atol=1e-6)
    assert (classes == (img[1] > img[0])).all()
    assert product.stats.pixels[1] == int((img[1] > img[0]).sum())
    assert product.scheme.classes[1].name == "change" and product.scheme.nodata == 255
    assert product.measure_name == "probability of change"
    assert any("CPUExecutionProvider" in line for line in logs)
    assert os.path.exists(str(tmp_path / "out_classes.qml"))


@pytest.mark.parametrize("piece_px", [1024, 16])
def test_seam_free_stitching_equals_whole_image(tmp_path, monkeypatch, piece_px) -> None:  # noqa: ANN001
    monkeypatch.setattr(tiling, "PIECE_WIDTH_PX", piece_px)  # rows are finished in column pieces
    img = RNG.random((1, 101, 77)).astype(np.float32)
    img[0, 40:44, 30:35] = -9999  # a no-data hole
    raster = write_raster(tmp_path / "img.tif", img, nodata=-9999, descriptions=["B04"])
    model = conv_model(tmp_path / "conv.onnx", base_metadata(bands=["B04"], tile_size_px=32, tile_overlap_px=8))
    product = run_model(model, [raster], _outputs(tmp_path), InferenceConfig(batch_size=3))
    filled = np.where(img[0] == -9999, 0.0, img[0]).astype(np.float32)
    whole = ort.InferenceSession(model).run(None, {"x": filled[None, None]})[0][0, 1]
    prob = read(product.measure_raster)
    near_hole = np.zeros_like(filled, dtype=bool)
    near_hole[39:45, 29:36] = True
    assert np.isnan(prob[40:44, 30:35]).all() and (read(product.class_raster)[40:44, 30:35] == 255).all()
    assert np.abs(prob[~near_hole] - whole[~near_hole]).max() < 1e-5


@pytest.mark.parametrize("layout", ["concat", "stacked", "separate"])
def test_two_date_layouts(tmp_path, layout) -> None:  # noqa: ANN001
    before = RNG.random((1, 40, 50)).astype(np.float32)
    after = RNG.random((1, 40, 50)).astype(np.float32)
    a = write_raster(tmp_path / "a.tif", before, descriptions=["VV"])
    b = write_raster(tmp_path / "b.tif", after, descriptions=["VV"])
    meta = base_metadata(layout=layout, bands=["VV"])
    model = layout_model(tmp_path / f"{layout}.onnx", layout, meta)
    product = run_model(model, [a, b], _outputs(tmp_path))
    assert np.allclose(read(product.measure_raster), after[0], atol=1e-6)
    assert (read(product.class_raster) == (after[0] > before[0])).all()
    assert [name for name, _ in product.inputs] == ["before image", "after image"]


def test_difference_model_sigmoid_threshold_and_second_grid(tmp_path) -> None:  # noqa: ANN001
    before = np.zeros((1, 20, 20), np.float32)
    after = np.zeros((1, 30, 30), np.float32)
    after[0, :10, :] = 3.0  # sigmoid(3) = 0.953
    after[0, 10:20, :] = 1.0  # sigmoid(1) = 0.731
    a = write_raster(tmp_path / "a.tif", before, descriptions=["B12"])
    # The after image is larger and on a grid offset by 5 pixels: aligned onto the before grid.
    b = write_raster(
        tmp_path / "b.tif", after, descriptions=["B12"], geotransform=(500000.0, 10.0, 0, 5100000.0, 0, -10.0)
    )
    meta = base_metadata(layout="concat", bands=["B12"], output={"kind": "logits", "activation": "sigmoid"})
    model = difference_model(tmp_path / "diff.onnx", dict(meta, threshold=0.8))
    product = run_model(model, [a, b], _outputs(tmp_path), InferenceConfig(resampling="nearest"))
    prob, classes = read(product.measure_raster), read(product.class_raster)
    assert prob.shape == (20, 20)
    assert prob[0, 0] == pytest.approx(1 / (1 + np.exp(-3.0)), abs=1e-6)
    assert prob[15, 0] == pytest.approx(1 / (1 + np.exp(-1.0)), abs=1e-6)
    assert (classes[:10] == 1).all() and (classes[10:] == 0).all()
    product = run_model(model, [a, b], _outputs(tmp_path, "t"), InferenceConfig(threshold=0.7))
    assert (read(product.class_raster)[:20] == 1).all() and product.threshold == 0.7


def test_band_mapping_by_description_in_any_order(tmp_path) -> None:  # noqa: ANN001
    img = np.stack([np.full((10, 12), v, np.float32) for v in (0.1, 0.2, 0.7)])
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B12", "B8", "B4"])
    model = identity_model(tmp_path / "id.onnx")  # wants B04 then B08
    product = run_model(model, [raster], _outputs(tmp_path))
    assert np.allclose(read(product.measure_raster), 0.2) and (read(product.class_raster) == 0).all()
    numbered = identity_model(tmp_path / "num.onnx", metadata=base_metadata(bands=[3, "#1"]))
    product = run_model(numbered, [raster], _outputs(tmp_path, "n"))
    assert np.allclose(read(product.measure_raster), 0.1)


def test_missing_bands_error_names_them(tmp_path) -> None:  # noqa: ANN001
    raster = write_raster(tmp_path / "rgb.tif", np.zeros((3, 8, 8), np.float32), descriptions=["B2", "B3", "B4"])
    model = identity_model(tmp_path / "m.onnx", 3, base_metadata(bands=["B04", "B08", "B11"]))
    with pytest.raises(BandNotFoundError, match=r"lacks band\(s\) B08, B11 .*its bands: B2, B3, B4"):
        run_model(model, [raster], _outputs(tmp_path))
    assert not list(tmp_path.glob("out_*"))


def test_preprocessing_scale_offset_clip_db_mean_std(tmp_path) -> None:  # noqa: ANN001
    vv = np.array([[0.01, 0.1], [1.0, 1e-9]], np.float32)
    dn = np.array([[1000, 3000], [9000, 500]], np.float32)
    raster = write_raster(tmp_path / "img.tif", np.stack([vv, dn]), descriptions=["VV", "B08"])
    prep = {"VV": {"db": True, "clip": [-25, 0], "mean": -10, "std": 5}, "B08": {"scale": 1e-4, "offset": -0.1}}
    meta = base_metadata(bands=["VV", "B08"], preprocessing=prep, tile_size_px=8, tile_overlap_px=0)
    model = identity_model(tmp_path / "m.onnx", metadata=meta)
    product = run_model(model, [raster], _outputs(tmp_path))
    assert np.allclose(read(product.measure_raster), dn * 1e-4 - 0.1, atol=1e-6)
    db = np.clip(10 * np.log10(np.maximum(vv, 1e-6)), -25, 0)
    expected_classes = ((dn * 1e-4 - 0.1) > (db + 10) / 5).astype(np.uint8)
    assert (read(product.class_raster) == expected_classes).all()


def test_values_as_reflectance_use_the_sensor_conversion(tmp_path) -> None:  # noqa: ANN001
    dn = np.stack([np.full((12, 12), 800, np.uint16), np.full((12, 12), 3500, np.uint16)])
    raster = write_raster(tmp_path / "s2.tif", dn, descriptions=["B4", "B8"])
    model = identity_model(tmp_path / "m.onnx", metadata=base_metadata(values="reflectance"))
    logs: list[str] = []
    product = run_model(model, [raster], _outputs(tmp_path), log=logs.append)
    assert np.allclose(read(product.measure_raster), 0.35, atol=1e-6)
    assert any("digital numbers / 10000" in line for line in logs), logs


def test_per_scene_normalisation(tmp_path) -> None:  # noqa: ANN001
    img = np.stack([RNG.normal(500, 40, (30, 30)), RNG.normal(2000, 300, (30, 30))]).astype(np.float32)
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B04", "B08"])
    model = identity_model(tmp_path / "m.onnx", metadata=base_metadata(normalization="per_scene"))
    prob = read(run_model(model, [raster], _outputs(tmp_path)).measure_raster)
    expected = (img[1] - img[1].mean()) / img[1].std()
    assert np.allclose(prob, expected, atol=1e-4)


def test_nodata_tiles_are_skipped_and_stay_nodata(tmp_path) -> None:  # noqa: ANN001
    img = RNG.random((2, 64, 96)).astype(np.float32)
    img[:, :, :40] = np.nan  # the first tile column holds no data
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B4", "B8"])
    logs: list[str] = []
    product = run_model(identity_model(tmp_path / "m.onnx"), [raster], _outputs(tmp_path), log=logs.append)
    classes = read(product.class_raster)
    assert (classes[:, :40] == 255).all() and (classes[:, 40:] != 255).all()
    assert any("skipped (no data)" in line and not line.startswith("0 ") for line in logs), logs
    assert product.stats.total_pixels == 64 * 56


def test_resample_to_model_pixel_size(tmp_path) -> None:  # noqa: ANN001
    img = np.ones((2, 40, 60), np.float32)
    img[1] = 2.0
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B4", "B8"])
    model = identity_model(tmp_path / "m.onnx", metadata=base_metadata(pixel_size_m=20))
    product = run_model(model, [raster], _outputs(tmp_path), InferenceConfig(resample_to_model=True))
    assert read(product.class_raster).shape == (20, 30)
    logs: list[str] = []
    product = run_model(model, [raster], _outputs(tmp_path, "b"), log=logs.append)
    assert read(product.class_raster).shape == (40, 60) and any("trained at 20 m" in line for line in logs)


def test_cancel_leaves_no_output(tmp_path) -> None:  # noqa: ANN001
    raster = write_raster(tmp_path / "img.tif", RNG.random((2, 80, 80)).astype(np.float32), descriptions=["B4", "B8"])
    calls: list[float] = []

    def progress(fraction: float) -> bool:
        calls.append(fraction)
        return len(calls) < 3

    with pytest.raises(CancelledError):
        run_model(identity_model(tmp_path / "m.onnx"), [raster], _outputs(tmp_path), progress=progress)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(("out_", ".out_"))]


def test_corrupt_and_non_model_files(tmp_path) -> None:  # noqa: ANN001
    raster = write_raster(tmp_path / "img.tif", np.zeros((2, 8, 8), np.float32), descriptions=["B4", "B8"])
    good = identity_model(tmp_path / "m.onnx")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(open(good, "rb").read()[:-20])
    text = tmp_path / "text.onnx"
    text.write_text("this is not a model")
    for path in (truncated, text):
        with pytest.raises(ModelFileError, match="not a valid ONNX model|not an ONNX model|cannot load"):
            run_model(str(path), [raster], _outputs(tmp_path))
    with pytest.raises(ModelFileError, match="cannot be read"):
        run_model(str(tmp_path / "missing.onnx"), [raster], _outputs(tmp_path))


def test_metadata_that_disagrees_with_the_graph(tmp_path) -> None:  # noqa: ANN001
    raster = write_raster(tmp_path / "img.tif", np.zeros((2, 8, 8), np.float32), descriptions=["B4", "B8"])
    model = identity_model(tmp_path / "m.onnx", 3, base_metadata())
    with pytest.raises(ModelMetadataError, match="takes 3 channels but its metadata gives 2"):
        run_model(model, [raster], _outputs(tmp_path))
    fixed = identity_model(tmp_path / "f.onnx", 2, base_metadata(), tile=16)
    with pytest.raises(ModelMetadataError, match="only takes 16 x 16 pixel tiles"):
        run_model(fixed, [raster], _outputs(tmp_path))
    run_model(fixed, [raster], _outputs(tmp_path), InferenceConfig(tile_size_px=16, tile_overlap_px=4))
    three = identity_model(tmp_path / "three.onnx", 2, base_metadata(classes=["a", "b", "c"]))
    with pytest.raises(ModelMetadataError, match="returns 2 channels but its metadata lists 3 classes"):
        run_model(three, [raster], _outputs(tmp_path))
    with pytest.raises(InputError, match=r"takes 2 image\(s\)"):
        run_model(
            layout_model(tmp_path / "c.onnx", "concat", base_metadata(layout="concat", bands=["B4"])),
            [raster],
            _outputs(tmp_path),
        )


@pytest.mark.parametrize("batch", [1, 2])
def test_models_exported_with_a_fixed_batch_size(tmp_path, batch) -> None:  # noqa: ANN001
    img = RNG.random((2, 40, 70)).astype(np.float32)  # 2 x 3 tiles: the last batch of 2 is padded
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B4", "B8"])
    model = identity_model(tmp_path / "m.onnx", batch=batch)
    product = run_model(model, [raster], _outputs(tmp_path), InferenceConfig(batch_size=4))
    assert np.allclose(read(product.measure_raster), img[1], atol=1e-6)


def test_bad_overrides(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ParameterError):
        InferenceConfig(threshold=1.5)
    raster = write_raster(tmp_path / "img.tif", np.zeros((2, 8, 8), np.float32), descriptions=["B4", "B8"])
    with pytest.raises(ParameterError, match="at most half"):
        run_model(
            identity_model(tmp_path / "m.onnx"), [raster], _outputs(tmp_path), InferenceConfig(tile_overlap_px=20)
        )


def test_sessions_are_cached_per_file_version_and_device(tmp_path) -> None:  # noqa: ANN001
    clear_sessions()
    model = identity_model(tmp_path / "m.onnx")
    first, reused = get_session(model, "cpu", 1)
    assert not reused and first.get_providers() == ["CPUExecutionProvider"]
    assert get_session(model, "cpu", 1) == (first, True)
    assert get_session(model, "cpu", 2)[0] is not first
    os.utime(model, ns=(1, 1))
    assert get_session(model, "cpu", 1)[0] is not first


def test_unavailable_device_is_an_error_not_a_fallback(tmp_path) -> None:  # noqa: ANN001
    model = identity_model(tmp_path / "m.onnx")
    missing = [d for d in ("cuda", "directml", "coreml", "rocm") if d not in ort.get_available_providers()]
    if not missing:
        pytest.skip("every provider is installed")
    with pytest.raises(ProviderError, match="not offered by the installed onnxruntime"):
        get_session(model, missing[0], 0)
    with pytest.raises(ProviderError, match="Unknown device"):
        get_session(model, "tpu", 0)
