"""Panel defects seen by a new user under a real display, each reproduced here first (issue 18)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from qgis.core import QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from test_panel import group_layers, panel, select_method, set_pair, wait_for  # noqa: F401 - the fixture


def _flush_deletes() -> None:
    """Run the deferred deletions Qt queued (what happens between two user clicks)."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def test_dialogs_open_again_after_all_options_was_closed(panel, tmp_path, qgis_iface, monkeypatch) -> None:  # noqa: ANN001
    """Closing *All options…* deletes its dialog; the panel then kept the dead wrapper and every later
    *Models…*, *Doctor…* and *All options…* raised ``RuntimeError: wrapped C/C++ object ... deleted``."""
    from changelens.processing.lifecycle import alive
    from qgis.gui import QgsBrowserGuiModel

    browser = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: browser, raising=False)
    set_pair(panel, tmp_path)
    dialog = panel.open_in_processing()
    dialog.close()
    _flush_deletes()
    assert not alive(dialog)  # Processing's dialog deletes itself on close
    for opened in (panel.open_models(), panel.open_doctor(), panel.open_in_processing()):
        assert opened is not None and opened.isVisible()
        opened.close()
    _flush_deletes()
    panel.shutdown()


def test_burned_s2_card_states_its_accuracy(qgis_app) -> None:  # noqa: ANN001
    """The card has the pooled leave-one-fire-out F1 in its validation table; the panel said 'not stated'."""
    from changelens.ui.models import bundled_dir, read_model

    for name, figure in (("burned_s2", "0.809"), ("burned_s2_post", "0.832"), ("landslide_s2", "0.838")):
        entry = read_model(os.path.join(bundled_dir(), f"{name}.onnx"), "bundled")
        assert "Accuracy: not stated" not in entry.summary, entry.summary
        assert f"F1 {figure}" in entry.summary, entry.summary


def _run(panel, tmp_path) -> None:  # noqa: ANN001
    set_pair(panel, tmp_path)
    panel.start_run()
    wait_for(lambda: panel.run is None, 60000)
    assert panel.status.text().startswith("Done"), panel.status.text()


def test_results_are_visible_even_when_their_group_was_unchecked(panel, tmp_path) -> None:  # noqa: ANN001
    root = QgsProject.instance().layerTreeRoot()
    group = root.findGroup("ChangeLens") or root.insertGroup(0, "ChangeLens")
    group.setItemVisibilityChecked(False)
    _run(panel, tmp_path)
    nodes = [root.findLayer(layer.id()) for layer in group_layers(QgsProject.instance())]
    assert nodes and all(node.isVisible() for node in nodes)


def test_status_line_gives_the_report_path_as_a_link(panel, tmp_path) -> None:  # noqa: ANN001
    _run(panel, tmp_path)
    report = panel.last_report
    assert report and report.endswith(".html") and os.path.exists(report)
    assert report in panel.status.text() and "<a href=" in panel.status.text()
    panel.opened.clear()
    panel.status.linkActivated.emit(Path(report).as_uri())
    assert [url.toLocalFile() for url in panel.opened] == [report]


def test_outputs_go_to_a_folder_remembered_per_project(panel, tmp_path, qgis_iface, monkeypatch) -> None:  # noqa: ANN001
    """Temporary outputs vanished when QGIS closed: the default is now a ChangeLens folder beside the
    project file (the home folder for an unsaved project), and the chosen folder is kept in the project."""
    from changelens.ui.panel import ChangeLensPanel

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    fresh = ChangeLensPanel(qgis_iface.messageBar())
    assert fresh.folder_radio.isChecked() and fresh.folder_widget.filePath() == str(home / "ChangeLens")
    fresh.deleteLater()
    project = QgsProject.instance()
    project.setFileName(str(tmp_path / "fires.qgz"))
    fresh = ChangeLensPanel(qgis_iface.messageBar())
    assert fresh.folder_widget.filePath() == str(tmp_path / "ChangeLens")
    chosen = tmp_path / "elsewhere"
    fresh.folder_widget.setFilePath(str(chosen))
    fresh.deleteLater()
    again = ChangeLensPanel(qgis_iface.messageBar())
    assert again.folder_widget.filePath() == str(chosen)
    set_pair(again, tmp_path)
    again.opened = []
    again.open_url = again.opened.append
    again.start_run()
    wait_for(lambda: again.run is None, 60000)
    assert chosen.is_dir() and any(p.suffix == ".html" for p in chosen.iterdir())  # created on first run
    again.deleteLater()


def test_long_method_names_are_readable_at_the_default_dock_width(provider, qgis_iface, qgis_new_project) -> None:  # noqa: ANN001
    from changelens.ui.panel import ChangeLensDock

    dock = ChangeLensDock(qgis_iface.messageBar())
    dock.resize(dock.minimumWidth(), 900)
    dock.show()
    widget = dock.panel
    QCoreApplication.processEvents()
    for task in range(widget.task_combo.count()):
        widget.task_combo.setCurrentIndex(task)
        for index in range(widget.method_combo.count()):
            widget.method_combo.setCurrentIndex(index)
            QCoreApplication.processEvents()
            label = widget.method_combo.itemText(index)
            name = label.replace(" (not available)", "")
            combo = widget.method_combo
            shown = combo.fontMetrics().horizontalAdvance(name) <= combo.width() - 30
            spelled = widget.method_name.isVisibleTo(widget) and widget.method_name.text() == name
            assert shown or spelled, (name, combo.width())
            assert combo.toolTip() == name
    dock.close()
    dock.deleteLater()


def test_every_choice_fits_the_dock_width_without_clipping(provider, qgis_iface, qgis_new_project) -> None:  # noqa: ANN001
    """At the dock's minimum width no section is wider than the visible area (nothing cut off at the right)."""
    from changelens.ui.panel import ChangeLensDock
    from qgis.PyQt.QtWidgets import QScrollArea

    dock = ChangeLensDock(qgis_iface.messageBar())
    dock.resize(dock.minimumWidth(), 900)
    dock.show()
    widget = dock.panel
    scroll = widget.findChild(QScrollArea, "changelens_scroll")
    for task in range(widget.task_combo.count()):
        widget.task_combo.setCurrentIndex(task)
        for index in range(widget.method_combo.count()):
            widget.method_combo.setCurrentIndex(index)
            QCoreApplication.processEvents()
            needed = scroll.widget().minimumSizeHint().width()
            assert needed <= scroll.viewport().width(), (widget.method_combo.itemText(index), needed)
    dock.close()
    dock.deleteLater()


@pytest.mark.parametrize("model", ["burned_s2.onnx"])
def test_model_runs_ask_for_the_probability_output(panel, model: str) -> None:  # noqa: ANN001
    from changelens.ui.runner import build_parameters
    from changelens.ui.tasks import registered_algorithm

    select_method(panel, "Model: burned_s2")
    method = panel.current_method()
    assert method is not None and method.model_path.endswith(model)
    params = build_parameters(method, registered_algorithm(method), panel.choices())
    assert params.get("OUTPUT_PROBABILITY"), sorted(params)


@pytest.mark.parametrize(("degrees", "warned"), [(0.00018, ""), (0.00009, "8.31 x 9.95 m")])
def test_pixel_size_in_geographic_crs_uses_both_axes(tmp_path, degrees: float, warned: str) -> None:  # noqa: ANN001
    """A 20 m model on an EPSG:4326 grid of 0.00018° pixels at 34° N (16.6 m east-west, 19.9 m north-south)
    warned '16.6 m pixels but trained at 20 m' from the east-west size alone."""
    import numpy as np
    from changelens.core.models.inference import InferenceOutputs, run_model
    from onnx_models import base_metadata, identity_model
    from rasters import write_raster

    image = np.ones((2, 30, 40), np.float32)
    transform = (-118.0, degrees, 0.0, 34.0, 0.0, -degrees)
    raster = write_raster(tmp_path / "geo.tif", image, epsg=4326, geotransform=transform, descriptions=["B4", "B8"])
    model = identity_model(tmp_path / "m.onnx", metadata=base_metadata(pixel_size_m=20))
    logs: list[str] = []
    outputs = InferenceOutputs(str(tmp_path / "classes.tif"), str(tmp_path / "prob.tif"))
    run_model(model, [raster], outputs, log=logs.append)
    warnings = [line for line in logs if line.startswith("Warning") and "trained at 20 m" in line]
    if warned:
        assert len(warnings) == 1 and f"{warned} pixels" in warnings[0], logs
    else:
        assert warnings == [], warnings
    grid = next(line for line in logs if line.startswith("Grid:"))
    assert " m)" in grid and " x " in grid.split("(")[-1], grid  # ground size of both axes, in metres


def test_report_title_and_basemap_chosen_in_the_panel(panel, tmp_path) -> None:  # noqa: ANN001
    """The panel offers the project's layers as the report's basemap and passes the event title on."""
    from changelens.ui.runner import build_parameters
    from changelens.ui.tasks import registered_algorithm

    pre, post = set_pair(panel, tmp_path)
    layers = [panel.basemap_combo.layer(i) for i in range(panel.basemap_combo.count())]
    assert None in layers and pre in layers and post in layers  # "none" first, then the project's layers
    panel.basemap_combo.setLayer(pre)
    panel.title_edit.setText("Creek Fire, 17 August 2023")
    method = panel.current_method()
    params = build_parameters(method, registered_algorithm(method), panel.choices())
    assert params["BASEMAP"] == pre.id() and params["EVENT_TITLE"] == "Creek Fire, 17 August 2023"
    panel.start_run()
    wait_for(lambda: panel.run is None, 60000)
    html = open(panel.last_report, encoding="utf-8").read()
    assert "<h1 id='title'>Creek Fire, 17 August 2023</h1>" in html and re.search(
        r">Basemap</th><td[^>]*>pre</td>", html
    )
