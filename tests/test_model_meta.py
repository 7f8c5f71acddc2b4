"""The metadata standard: validation messages, Deepness import, writing, the command-line tool, tiling maths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime  # noqa: F401 - the real package, imported before anything can shadow it
import pytest
from changelens.core.errors import ModelFileError, ModelMetadataError
from changelens.core.models.meta import document_to_props, parse_metadata, read_model_metadata, write_metadata
from changelens.core.models.onnx_file import read_metadata_props, write_metadata_props
from changelens.core.models.tiling import tile_starts, tile_weights, weights_1d
from hypothesis import given
from hypothesis import strategies as st
from onnx_models import base_metadata, identity_model

ROOT = Path(__file__).resolve().parent.parent


def _props(**changes: object) -> dict[str, str]:
    doc = base_metadata(**changes)
    doc["changelens_schema"] = 1
    return {k: json.dumps(v) for k, v in doc.items() if v is not None}


def test_full_document_parses() -> None:
    meta = parse_metadata(
        _props(
            layout="stacked",
            bands=["B02", "B8A", "VV", "DEM", "slope"],
            preprocessing={"*": {"scale": 1e-4}, "VV": {"db": True, "scale": 1.0}, "DEM": {"mean": 500, "std": 300}},
            values="reflectance",
            normalization="per_scene",
            pixel_size_m=10,
            threshold=0.4,
            output={"kind": "logits", "activation": "sigmoid", "name": "y"},
            training_data="seeded simulation",
        ),
        "m.onnx",
    )
    assert meta.dates == 2 and meta.channels_per_date == 5
    assert [b.scale for b in meta.bands] == [1e-4, 1e-4, 1.0, 1e-4, 1e-4]
    assert meta.bands[2].db and meta.bands[3].mean == 500 and meta.bands[3].std == 300
    assert meta.threshold == 0.4 and meta.activation == "sigmoid" and meta.output_name == "y"
    assert meta.scheme.classes[0].background and not meta.scheme.classes[1].background
    assert meta.scheme.nodata == 255 and meta.pixel_size_m == 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"changelens_schema": 2}, "reads version 1"),
        ({"classes": ["only one"]}, "at least 2 classes"),
        ({"classes": [{"name": "a", "color": "red"}, "b"]}, "colour 'red'; use '#rrggbb'"),
        ({"layout": "sideways"}, "'layout' must be one of single, concat, stacked, separate"),
        ({"bands": []}, "'bands' must list the bands"),
        ({"bands": ["B04", "B4"]}, "lists a band twice"),
        ({"preprocessing": {"B11": {"scale": 2}}}, "band\\(s\\) not in 'bands': B11"),
        ({"preprocessing": {"B04": {"sclae": 2}}}, "unknown preprocessing key\\(s\\) sclae"),
        ({"preprocessing": {"B04": {"std": 0}}}, "'std' must be greater than 0"),
        ({"preprocessing": {"B04": {"clip": [5, 1]}}}, "'clip' low must be below high"),
        ({"tile_size_px": "big"}, "'tile_size_px' must be a number"),
        ({"tile_size_px": 64, "tile_overlap_px": 40}, "at most half the tile size"),
        ({"threshold": 1.5}, "'threshold' must be a probability"),
        ({"threshold": 0.5, "classes": ["a", "b", "c"]}, "two-class models only"),
        ({"output": {"kind": "probabilities", "activation": "softmax"}}, "takes activation 'none'"),
        ({"input_names": ["a", "b"]}, "takes 1 input name"),
        ({"preprocessing": {"B04": {"scale": "x"}}}, "band 'B04': 'scale' must be a number"),
    ],
)
def test_invalid_metadata_is_refused_with_a_clear_message(changes: dict, message: str) -> None:
    props = _props()
    props.update({k: json.dumps(v) for k, v in changes.items()})
    with pytest.raises(ModelMetadataError, match=f"^Model 'm.onnx' metadata: .*{message}"):
        parse_metadata(props, "m.onnx")


def test_no_metadata_says_how_to_add_it() -> None:
    with pytest.raises(ModelMetadataError, match="has no ChangeLens metadata: .*Edit ONNX model metadata"):
        parse_metadata({"producer": "pytorch"}, "m.onnx")


def test_deepness_metadata_loads() -> None:
    props = {
        "model_type": json.dumps("Segmentor"),
        "class_names": json.dumps({"0": "background", "1": "building"}),
        "resolution": json.dumps(20),
        "tiles_size": json.dumps(256),
        "tiles_overlap": json.dumps(25),
        "standardization_mean": json.dumps([0.5, 0.4, 0.3]),
        "standardization_std": json.dumps([0.2, 0.2, 0.25]),
        "seg_thresh": json.dumps(0.6),
    }
    meta = parse_metadata(props, "deep.onnx", input_channels=3)
    assert meta.source == "deepness" and meta.layout == "single"
    assert [b.band for b in meta.bands] == ["#1", "#2", "#3"]
    assert meta.bands[0].scale == pytest.approx(1 / 255) and meta.bands[2].std == 0.25
    assert meta.tile_size_px == 256 and meta.tile_overlap_px == 64 and meta.pixel_size_m == 0.2
    assert meta.threshold == 0.6 and meta.output_kind == "probabilities"
    assert [c.name for c in meta.scheme.classes] == ["background", "building"]
    single = parse_metadata({"model_type": '"Segmentor"', "class_names": '["water"]', "tile_size": "512"}, "w", 4)
    assert [c.name for c in single.scheme.classes] == ["background", "water"] and len(single.bands) == 4
    with pytest.raises(ModelMetadataError, match="Deepness model type 'Detector' is not supported"):
        parse_metadata({"model_type": '"Detector"', "class_names": '["car"]'}, "d", 3)


def test_write_into_modelproto_and_file_keeps_other_keys(tmp_path) -> None:  # noqa: ANN001
    path = identity_model(tmp_path / "m.onnx", bare=True)
    model = onnx.load(path)
    entry = model.metadata_props.add()
    entry.key, entry.value = "producer_note", "keep me"
    write_metadata(model, base_metadata(tile_size_px=64))
    onnx.save(model, path)
    props = read_metadata_props(path)
    assert props["producer_note"] == "keep me" and props["tile_size_px"] == "64" and props["changelens_schema"] == "1"
    write_metadata(path, base_metadata(tile_size_px=128), out_path=str(tmp_path / "copy.onnx"))
    copy = onnx.load(str(tmp_path / "copy.onnx"))
    onnx.checker.check_model(copy)
    assert read_model_metadata(str(tmp_path / "copy.onnx")).tile_size_px == 128
    assert read_model_metadata(path).tile_size_px == 64
    with pytest.raises(ModelMetadataError):
        document_to_props(base_metadata(layout="diagonal"))
    with pytest.raises(ModelMetadataError, match=r"unknown key\(s\) tile_sise"):
        document_to_props(base_metadata(tile_sise=3))
    assert read_model_metadata(path).ignored_keys == ("producer_note",)


def test_wire_format_round_trip_matches_onnx(tmp_path) -> None:  # noqa: ANN001
    path = identity_model(tmp_path / "m.onnx")
    props = {"a": "1", "ünïcode": json.dumps("Ω" * 300)}
    write_metadata_props(path, props)
    model = onnx.load(path)
    assert {p.key: p.value for p in model.metadata_props} == props
    assert len(model.graph.node) == 1
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ModelFileError, match="not an ONNX model"):
        read_metadata_props(str(tmp_path / "empty.onnx"))


def _tool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The metadata tool under the system Python (no QGIS import, maybe no onnxruntime)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "onnx_metadata.py"), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_command_line_tool(tmp_path) -> None:  # noqa: ANN001
    bare = identity_model(tmp_path / "bare.onnx", bare=True)
    card = tmp_path / "card.json"
    card.write_text(json.dumps(base_metadata(bands=[1, 2])))
    out = tmp_path / "ready.onnx"
    done = _tool("set", bare, "--json", str(card), "--set", "tile_size_px=64", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "tiles 64 px" in done.stdout and read_metadata_props(bare) == {}
    shown = _tool("show", str(out))
    assert shown.returncode == 0 and '"tile_size_px": 64' in shown.stdout
    bad = _tool("set", str(out), "--set", "bands=[1]")
    assert bad.returncode == 1 and "takes 2 channels but its metadata gives 1" in bad.stderr
    assert read_model_metadata(str(out)).channels_per_date == 2
    typo = _tool("set", str(out), "--set", "tile_sise=3")
    assert typo.returncode == 1 and "Unknown metadata key(s) tile_sise" in typo.stderr
    removed = _tool("set", str(out), "--remove", "threshold", "--json", "-", stdin='{"version": "2.0"}')
    assert removed.returncode == 0 and json.loads(read_metadata_props(str(out))["version"]) == "2.0"


@given(st.integers(1, 400), st.integers(8, 64), st.data())
def test_tiles_cover_the_raster_with_positive_weight(length: int, tile: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(0, tile // 2))
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and all(b > a for a, b in zip(starts, starts[1:]))
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:]))
    total = np.zeros(max(length, tile))
    for s in starts:
        w = weights_1d(tile, overlap, s == 0, s + tile >= length)
        assert w.min() >= 0 and w.max() <= 1
        total[s : s + tile] += w
    assert (total[:length] > 0).all()


def test_weights_discard_the_outer_quarter_of_the_overlap() -> None:
    w = tile_weights(32, 8, 32, 32, 200, 200)  # an interior tile
    assert (w[:2] == 0).all() and (w[:, -2:] == 0).all() and w[16, 16] == 1
    edge = tile_weights(32, 8, 0, 0, 200, 200)  # the top-left tile keeps full weight on the raster edges
    assert edge[0, 0] == 1 and edge[0, -1] == 0


def _open_cd_standin(path: Path) -> str:
    """Same interface as an open-cd export: 'input' [N, 6, H, W] -> 'output' logits [N, 2, H, W].

    Logit 1 = sum over RGB of (after - before) in normalised units; logit 0 = 0.
    """
    w = np.zeros((2, 6, 1, 1), np.float32)
    w[1, :3, 0, 0], w[1, 3:, 0, 0] = -1.0, 1.0
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Conv", ["input", "w"], ["output"])],
        "opencd_standin",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [None, 6, None, None])],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [None, 2, None, None])],
        [onnx.numpy_helper.from_array(w, "w")],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def test_readme_worked_example(tmp_path) -> None:  # noqa: ANN001
    from changelens.core.models.inference import InferenceOutputs, run_model
    from rasters import read, write_raster

    text = (ROOT / "models" / "README.md").read_text()
    block = text.split("<!-- worked-example:open-cd -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    card = tmp_path / "card.json"
    card.write_text(block)
    model = _open_cd_standin(tmp_path / "changer_levir.onnx")
    out = tmp_path / "changer_levir_changelens.onnx"
    done = _tool("set", model, "--json", str(card), "--out", str(out))
    assert done.returncode == 0, done.stderr
    before = np.full((3, 40, 40), 100, np.uint8)
    after = before.copy()
    after[:, 10:20, 10:30] = 200
    gt = (0.0, 0.5, 0.0, 0.0, 0.0, -0.5)
    a = write_raster(tmp_path / "a.tif", before, geotransform=gt)
    b = write_raster(tmp_path / "b.tif", after, geotransform=gt)
    product = run_model(str(out), [a, b], InferenceOutputs(str(tmp_path / "c.tif"), str(tmp_path / "p.tif")))
    classes = read(product.class_raster)
    assert (classes[10:20, 10:30] == 1).all() and classes.sum() == 200
    logit = sum(100.0 / s for s in (58.395, 57.12, 57.375))
    assert read(product.measure_raster)[15, 15] == pytest.approx(1 / (1 + np.exp(-logit)), abs=1e-6)
    assert product.title == "ChangerEx R18, LEVIR-CD (open-cd)"
