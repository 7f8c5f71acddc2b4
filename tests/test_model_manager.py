"""Model manager: list bundled and user models, import a valid and an invalid model, remove, cards."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper
from qgis.core import QgsApplication

pytest.importorskip("changelens.core.models.meta", reason="the model runtime (issue 5) is not merged yet")

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


def test_terrain_model_asks_for_a_dem_after_the_index_method(qgis_app, provider, tmp_path) -> None:  # noqa: ANN001
    from changelens.ui.models import list_models, model_methods
    from changelens.ui.tasks import METHODS, methods_for, unavailable_reason
    from onnx_models import base_metadata, terrain_model

    terrain_model(
        tmp_path / "slide.onnx", base_metadata(task="landslide", layout="concat", bands=["B04"], terrain=["slope_deg"])
    )
    (entry,) = list_models(((str(tmp_path), "bundled"),))
    assert entry.usable and entry.needs_dem and entry.task == "landslide"
    landslide = methods_for("landslide", METHODS + model_methods([entry]))
    assert [m.algorithm_id for m in landslide] == ["changelens:landslide", "changelens:runmodel"]  # index first
    assert (landslide[1].before, landslide[1].after, landslide[1].dem, landslide[1].dem_optional) == (
        "IMAGE",
        "AFTER",
        "DEM",
        False,
    )
    assert unavailable_reason(landslide[1]) is None  # "Run ONNX model" has the DEM parameter


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


def test_panel_runs_an_imported_model(qgis_iface, qgis_new_project, provider, folders, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """The imported model appears under its task and under Custom model, and runs end to end."""
    import numpy as np
    from changelens.ui import models
    from changelens.ui.panel import ChangeLensPanel
    from qgis.core import QgsProject, QgsRasterLayer
    from rasters import read, write_raster
    from test_panel import group_layers, wait_for

    if QgsApplication.processingRegistry().algorithmById("changelens:runmodel") is None:
        pytest.skip("the Run ONNX model algorithm is not registered")
    user = tmp_path / "profile_models"
    monkeypatch.setattr(models, "bundled_dir", lambda: folders[0][0])
    monkeypatch.setattr(models, "user_dir", lambda create=False: str(user))
    models.import_model(tiny_model(tmp_path / "flood.onnx", dict(METADATA, name="Tiny flood", task="flood")), str(user))
    before = np.stack([np.full((16, 16), 4000, np.uint16), np.full((16, 16), 900, np.uint16)])  # < 1000 DN: no offset
    before[1, :5] = 6000  # B12 > B08 on the top five rows: the model's logit for class 1 wins there
    after = before.copy()
    paths = [
        write_raster(tmp_path / f"{n}.tif", a, descriptions=["B08", "B12"]) for n, a in (("b", before), ("a", after))
    ]
    layers = [QgsRasterLayer(p, n) for p, n in zip(paths, ("before", "after"))]
    QgsProject.instance().addMapLayers(layers)
    panel = ChangeLensPanel(qgis_iface.messageBar())
    panel.open_url = lambda _url: None
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("flood"))
    labels = [panel.method_combo.itemText(i) for i in range(panel.method_combo.count())]
    assert "Model: Tiny flood" in labels
    panel.method_combo.setCurrentIndex(labels.index("Model: Tiny flood"))
    assert panel.method_card.text() == "Data: seeded simulation · Accuracy: not stated · Licence: CC-BY-4.0"
    assert panel.device_combo.isEnabled() and panel.device_combo.currentText() == "CPU"
    panel.before_combo.setLayer(layers[0])
    panel.after_combo.setLayer(layers[1])
    panel.run_button.click()
    wait_for(lambda: panel.run is None)
    assert panel.status.text().startswith("Done"), panel.status.text()
    (classes,) = [layer for layer in group_layers(QgsProject.instance()) if layer.name() == "Classes"]
    values = read(classes.source())
    assert (values[:5] == 1).all() and (values[5:] == 0).all()
    custom = panel.task_combo.findData("model")
    panel.task_combo.setCurrentIndex(custom)
    assert panel.current_method().label in ("Model: Tiny burned-area model", "Model: Tiny flood")
    panel.deleteLater()
