"""Model manager: list bundled and user models, import a valid and an invalid model, remove, cards."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

pytest.importorskip("changelens.core.model_meta", reason="the model runtime (issue 5) is not merged yet")

METADATA = {
    "changelens_schema": 1,
    "name": "Tiny burned-area model",
    "task": "burned_area",
    "classes": [{"name": "unburned", "color": "#d9d9d9", "background": True}, {"name": "burned", "color": "#e31a1c"}],
    "layout": "concat",
    "bands": ["B08", "B12"],
    "tile_size_px": 16,
    "license": "CC-BY-4.0",
    "training_data": "seeded simulation",
}
CARD = "# Tiny burned-area model\n\n| Metric | Value |\n|---|---|\n| Accuracy | F1 0.81 on burned/prepost |\n"


def tiny_model(path: Path, metadata: dict | None) -> str:
    """A 2-date model whose output is its first two input channels (before NIR, before SWIR2) as logits."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 16, 16])
    starts = helper.make_tensor("s", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("e", TensorProto.INT64, [1], [2])
    axes = helper.make_tensor("a", TensorProto.INT64, [1], [1])
    node = helper.make_node("Slice", ["x", "s", "e", "a"], ["y"])
    graph = helper.make_graph([node], "tiny", [x], [y], initializer=[starts, ends, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


@pytest.fixture()
def folders(tmp_path):  # noqa: ANN001, ANN201
    bundled, user = tmp_path / "bundled", tmp_path / "user"
    bundled.mkdir()
    tiny_model(bundled / "burn_tiny.onnx", METADATA)
    (bundled / "burn_tiny.md").write_text(CARD)
    return ((str(bundled), "bundled"), (str(user), "user"))


@pytest.fixture()
def manager(qgis_app, provider, folders):  # noqa: ANN001, ANN201
    from changelens.ui.model_manager import ModelManagerDialog

    dialog = ModelManagerDialog(folders=folders)
    dialog.asked = []
    dialog.confirm = lambda _parent, title, text: dialog.asked.append((title, text)) or False
    yield dialog
    dialog.deleteLater()


def test_bundled_model_listed_with_card_summary(manager) -> None:  # noqa: ANN001
    from changelens.ui.models import model_methods

    (entry,) = manager.entries
    assert entry.usable and entry.origin == "bundled" and entry.task == "burned_area" and entry.dates == 2
    assert entry.summary == ("Data: seeded simulation · Accuracy: F1 0.81 on burned/prepost · Licence: CC-BY-4.0")
    assert "F1 0.81" in manager.card.toPlainText()
    assert not manager.remove_button.isEnabled()  # bundled models stay
    methods = model_methods(manager.entries)
    assert [(m.task, m.before, m.after, m.model_path) for m in methods] == [
        ("burn", "IMAGE", "AFTER", entry.path),
        ("model", "IMAGE", "AFTER", entry.path),
    ]


def test_import_valid_model_then_remove(manager, tmp_path) -> None:  # noqa: ANN001
    source = tiny_model(tmp_path / "mine.onnx", dict(METADATA, name="Mine", task="flood"))
    changed = []
    manager.models_changed.connect(lambda: changed.append(1))
    entry = manager.import_file(source)
    assert entry is not None and entry.usable and entry.origin == "user" and entry.task == "flood"
    assert Path(entry.path).parent == tmp_path / "user" and Path(entry.path).read_bytes() == Path(source).read_bytes()
    assert "ready" in manager.message.text() and changed == [1] and manager.asked == []
    assert [e.name for e in manager.entries] == ["Tiny burned-area model", "Mine"]
    assert manager.current().path == entry.path and manager.remove_button.isEnabled()
    again = manager.import_file(source)
    assert Path(again.path).name == "mine_2.onnx"  # never overwrites
    manager.confirm = lambda *_args: True
    manager.remove_current()
    assert not Path(again.path).exists() and len(manager.entries) == 2


def test_import_model_without_metadata_offers_editor(manager, tmp_path) -> None:  # noqa: ANN001
    source = tiny_model(tmp_path / "bare.onnx", None)
    entry = manager.import_file(source)
    assert entry is not None and not entry.usable
    assert "has no ChangeLens metadata" in entry.problem
    assert manager.asked and manager.asked[0][0] == "Describe the model"
    assert "cannot run yet" in manager.message.text()
    assert [e.usable for e in manager.entries] == [True, False]


def test_import_rejects_a_file_that_is_not_a_model(manager, tmp_path) -> None:  # noqa: ANN001
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01not a model at all" * 10)
    assert manager.import_file(str(junk)) is None
    assert manager.message.text().startswith("Not imported:") and "ONNX" in manager.message.text()
    assert not (tmp_path / "user" / "junk.onnx").exists()
