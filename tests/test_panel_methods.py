"""A new algorithm plugs into the panel with one MethodSpec: DEM, single image, MMU, devices, report."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from changelens.processing.compat import NUMBER_DOUBLE
from qgis.core import (
    QgsApplication,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingProvider,
    QgsProject,
)
from qgis.PyQt import sip
from rasters import write_raster
from test_panel import add_layer, group_layers, wait_for

SEEN: list[dict] = []


class FakeModelAlgorithm(QgsProcessingAlgorithm):
    """Copies the image to OUTPUT and writes an HTML report; records what it was given."""

    def name(self) -> str:
        return "fake"

    def displayName(self) -> str:  # noqa: N802
        return "Fake"

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return FakeModelAlgorithm()

    def initAlgorithm(self, config=None) -> None:  # noqa: ANN001, N802
        self.addParameter(QgsProcessingParameterRasterLayer("IMAGE", "Image"))
        self.addParameter(QgsProcessingParameterRasterLayer("DEM", "DEM"))
        self.addParameter(QgsProcessingParameterFile("MODEL", "Model", extension="onnx", optional=True))
        self.addParameter(QgsProcessingParameterNumber("MIN_AREA_M2", "MMU", NUMBER_DOUBLE, 0))
        self.addParameter(QgsProcessingParameterEnum("DEVICE", "Device", ["CPU", "CUDA", "DirectML"], defaultValue=0))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", "Fake classes"))
        self.addParameter(QgsProcessingParameterFileDestination("REPORT", "Report", "HTML files (*.html)"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: ANN001, ANN201, N802
        SEEN.append(dict(parameters))
        image = self.parameterAsRasterLayer(parameters, "IMAGE", context).source()
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        report = self.parameterAsFileOutput(parameters, "REPORT", context)
        shutil.copyfile(image, output)
        with open(report, "w") as handle:
            handle.write("<html><body>fake</body></html>")
        return {"OUTPUT": output, "REPORT": report}


class SlowAlgorithm(QgsProcessingAlgorithm):
    """Reports 10 % and then waits (up to 10 s) until it is cancelled, like a long run."""

    def name(self) -> str:
        return "slow"

    def displayName(self) -> str:  # noqa: N802
        return "Slow"

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return SlowAlgorithm()

    def initAlgorithm(self, config=None) -> None:  # noqa: ANN001, N802
        self.addParameter(QgsProcessingParameterRasterLayer("IMAGE", "Image"))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", "Never written"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: ANN001, ANN201, N802
        feedback.setProgress(10)
        deadline = time.monotonic() + 10
        while not feedback.isCanceled() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise QgsProcessingException("The run was cancelled; no output was written.")


class FakeProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "paneltest"

    def name(self) -> str:
        return "Panel test"

    def loadAlgorithms(self) -> None:  # noqa: N802
        self.addAlgorithm(FakeModelAlgorithm())
        self.addAlgorithm(SlowAlgorithm())


@pytest.fixture()
def fake_methods(qgis_app, provider):  # noqa: ANN001, ANN201
    from changelens.ui.tasks import METHODS, MethodSpec

    registry = QgsApplication.processingRegistry()
    if registry.providerById("paneltest") is None:
        fake_methods.provider = FakeProvider()
        registry.addProvider(fake_methods.provider)
    spec = MethodSpec(
        task="landslide",
        label="Fake landslide model",
        algorithm_id="paneltest:fake",
        after="IMAGE",
        dem="DEM",
        min_area_m2="MIN_AREA_M2",
        device="DEVICE",
        devices=("CPUExecutionProvider", "CUDAExecutionProvider", "DmlExecutionProvider"),
        model="MODEL",
        model_path=str(Path(__file__).parent / "no_such_model.onnx"),
        summary="Data: simulation · Accuracy: not stated · Licence: MIT",
    )
    wrong = MethodSpec(task="flood", label="Mismatched", algorithm_id="changelens:burnseverity", after="AFTER_IMAGE")
    slow = MethodSpec(task="model", label="Slow", algorithm_id="paneltest:slow", after="IMAGE")
    later = MethodSpec(task="landslide", label="Landslide index", algorithm_id="changelens:notyet", after="POST")
    return METHODS[:1] + (later, spec, wrong, slow)


@pytest.fixture()
def panel(fake_methods, qgis_iface, qgis_new_project):  # noqa: ANN001, ANN201
    from changelens.core.models.runtime_check import RuntimeStatus
    from changelens.ui.panel import ChangeLensPanel

    qgis_iface.messageBar().clear_messages()
    widget = ChangeLensPanel(qgis_iface.messageBar(), methods=fake_methods)
    widget.runtime = RuntimeStatus("ok", "1.0", ("CUDAExecutionProvider", "CPUExecutionProvider"))
    widget.opened = []
    widget.open_url = widget.opened.append
    yield widget
    if not sip.isdeleted(widget):
        widget.deleteLater()


def test_mismatched_entry_is_disabled_with_reason(panel) -> None:  # noqa: ANN001
    from changelens.ui.tasks import unavailable_reason

    flood = panel.task_combo.findData("flood")
    assert not panel.task_combo.model().item(flood).isEnabled()
    reason = unavailable_reason(next(m for m in panel.methods if m.label == "Mismatched"))
    assert "unknown parameter(s) AFTER_IMAGE" in reason


def test_single_image_method_with_dem_devices_and_report(panel, tmp_path) -> None:  # noqa: ANN001
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("landslide"))
    assert panel.current_method().label == "Fake landslide model"  # the first method that can run
    assert not panel.method_combo.model().item(0).isEnabled()
    assert "'changelens:notyet' is not installed" in panel.method_combo.model().item(0).toolTip()
    assert panel.method_card.text().startswith("Data: simulation")
    assert panel.before_combo.isHidden() and panel.after_label.text() == "Image"
    assert not panel.dem_combo.isHidden() and panel.bands_box.isHidden()
    assert [box.title() for box in panel.sections if not box.isHidden()] == [
        "1. What do you want to map?",
        "2. Images or products",
        "3. Options",
        "4. Outputs",
    ]
    assert panel.mmu_spin.isEnabled()
    devices = panel.device_combo
    assert [devices.itemText(i) for i in range(devices.count())] == ["CPU", "CUDA", "DirectML"]
    assert [devices.model().item(i).isEnabled() for i in range(3)] == [True, True, False]
    image = add_layer(write_raster(tmp_path / "img.tif", np.ones((1, 4, 4), np.uint8)), "image")
    panel.after_combo.setLayer(image)
    assert panel.status.text() == "Choose a DEM (elevation raster)." and not panel.run_button.isEnabled()
    dem = add_layer(write_raster(tmp_path / "dem.tif", np.zeros((4, 4), np.float32)), "dem")
    panel.dem_combo.setLayer(dem)
    panel.mmu_spin.setValue(500)
    devices.setCurrentIndex(1)
    SEEN.clear()
    panel.run_button.click()
    wait_for(lambda: panel.run is None)
    assert panel.status.text().startswith("Done"), panel.status.text()
    (given,) = SEEN
    assert given["IMAGE"] == image.id() and given["DEM"] == dem.id()
    assert given["MIN_AREA_M2"] == 500 and given["DEVICE"] == 1 and given["MODEL"].endswith("no_such_model.onnx")
    assert [layer.name() for layer in group_layers(QgsProject.instance())] == ["Fake classes"]
    assert len(panel.opened) == 1 and panel.opened[0].toLocalFile().endswith(".html")


def test_cancel_during_a_long_run_keeps_qgis_responsive(panel, tmp_path) -> None:  # noqa: ANN001
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("model"))
    assert panel.current_method().label == "Slow"
    image = add_layer(write_raster(tmp_path / "img.tif", np.ones((1, 4, 4), np.uint8)), "image")
    panel.after_combo.setLayer(image)
    started = time.monotonic()
    panel.run_button.click()
    wait_for(lambda: panel.progress.value() == 10)  # the event loop runs while the algorithm works
    assert panel.run is not None and panel.status.text() == "Running Slow…"
    panel.cancel_button.click()
    wait_for(lambda: panel.run is None)
    assert time.monotonic() - started < 8
    assert panel.status.text() == "Cancelled; no output was written." and panel.progress.value() == 0
    assert group_layers(QgsProject.instance()) == []


def test_closing_the_panel_during_a_run_is_safe(panel, tmp_path) -> None:  # noqa: ANN001
    from changelens.ui.runner import AlgorithmRun
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    panel.task_combo.setCurrentIndex(panel.task_combo.findData("model"))
    image = add_layer(write_raster(tmp_path / "img.tif", np.ones((1, 4, 4), np.uint8)), "image")
    panel.after_combo.setLayer(image)
    panel.run_button.click()
    wait_for(lambda: panel.progress.value() == 10)
    panel.cancel_run()
    panel.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    wait_for(lambda: not AlgorithmRun._active)


def test_unloading_during_a_run_is_safe(panel, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """The plugin unloads (or QGIS exits) mid-run: the run is cancelled and detached, so when its task
    ends nothing reaches the deleted panel (no exception in a slot) and nothing is added to the project."""
    import sys

    from changelens.ui.runner import AlgorithmRun
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    errors: list = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: errors.append(info))
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("model"))
    panel.after_combo.setLayer(add_layer(write_raster(tmp_path / "img.tif", np.ones((1, 4, 4), np.uint8)), "image"))
    panel.run_button.click()
    wait_for(lambda: panel.progress.value() == 10)
    run = panel.run
    panel.shutdown()
    assert panel.run is None and run.detached
    panel.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    wait_for(lambda: not AlgorithmRun._active)
    assert errors == [] and group_layers(QgsProject.instance()) == []


def test_missing_onnxruntime_opens_the_doctor_once_and_blocks_model_runs(panel, tmp_path) -> None:  # noqa: ANN001
    from changelens.core.models.runtime_check import RuntimeStatus

    panel.runtime = RuntimeStatus("missing", error="onnxruntime is not installed for this Python")
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("landslide"))
    doctors = [d for d in panel.dialogs if d.objectName() == "changelens_doctor"]
    assert len(doctors) == 1 and "not installed" in doctors[0].explanation.text()
    image = add_layer(write_raster(tmp_path / "img.tif", np.ones((1, 4, 4), np.uint8)), "image")
    panel.after_combo.setLayer(image)
    panel.dem_combo.setLayer(image)
    assert not panel.run_button.isEnabled() and "Doctor" in panel.status.text()
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("burn"))
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("landslide"))
    assert len([d for d in panel.dialogs if d.objectName() == "changelens_doctor"]) == 1
    doctors[0].close()


def test_optional_before_image_and_dem(fake_methods, qgis_iface, qgis_new_project, tmp_path) -> None:  # noqa: ANN001
    from changelens.ui.panel import ChangeLensPanel
    from changelens.ui.tasks import MethodSpec

    spec = MethodSpec(
        task="change",
        label="Optional inputs",
        algorithm_id="paneltest:fake",
        before="DEM",
        before_optional=True,
        after="IMAGE",
        dem="DEM",
        dem_optional=True,
    )
    panel = ChangeLensPanel(qgis_iface.messageBar(), methods=(spec,))
    assert panel.before_label.text() == "Before (optional)" and panel.dem_label.text() == "DEM (optional)"
    image = add_layer(write_raster(tmp_path / "img.tif", np.ones((1, 4, 4), np.uint8)), "image")
    panel.after_combo.setLayer(image)
    assert panel.blocking_reason() is None and panel.run_button.isEnabled()
    assert not panel.mmu_spin.isEnabled() and panel.mmu_spin.text() == "n/a"
    panel.deleteLater()
