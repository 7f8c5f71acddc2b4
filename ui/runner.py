"""Run a Processing algorithm as a background task and put its results on the map.

The panel hands over finished choices (:class:`RunChoices`); this module turns them into
the algorithm's parameters, runs it with :class:`QgsProcessingAlgRunnerTask` (QGIS stays
responsive), reports progress, and on success adds the outputs to a "ChangeLens" group
of the layer tree. Rasters pick up their ``.qml`` sidecar and GeoPackages their default
style by themselves, so the result is styled exactly as from the Toolbox or ``qgis_process``.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMessageLog,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterVectorDestination,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..processing.compat import CRITICAL, FLAG_OPTIONAL, INFO
from ..processing.lifecycle import disconnect_all
from .tasks import MethodSpec

GROUP_NAME = "ChangeLens"
LOG_TAG = "ChangeLens"


@dataclass(frozen=True)
class RunChoices:
    """What the user chose in the panel, as plain values (layers by id, products by path, bands 1-based
    with 0 = detect, enum choices as indexes)."""

    before_layer: str | None
    after_layer: str | None
    dem_layer: str | None = None
    bands: dict[tuple[str, str], int] = field(default_factory=dict)
    radiometry: int | None = None
    min_area_m2: float | None = None
    cloud_mask: int | None = None
    before_product: str | None = None  # a product path, used instead of the before layer
    after_product: str | None = None
    device: int | None = None
    output_folder: str | None = None
    run_name: str = "changelens"
    event_title: str = ""
    basemap_layer: str | None = None


def output_path(folder: str, run_name: str, definition: Any) -> str:
    """A file in ``folder`` for a destination parameter, never overwriting an earlier run."""
    extension = definition.defaultFileExtension() if hasattr(definition, "defaultFileExtension") else ""
    stem = f"{run_name}_{definition.name().lower()}"
    path = os.path.join(folder, f"{stem}.{extension}" if extension else stem)
    counter = 2
    while os.path.exists(path):
        path = os.path.join(folder, f"{stem}_{counter}.{extension}" if extension else f"{stem}_{counter}")
        counter += 1
    return path


def build_parameters(
    method: MethodSpec, algorithm: QgsProcessingAlgorithm, choices: RunChoices, for_dialog: bool = False
) -> dict[str, Any]:
    """The algorithm's parameters for ``choices``; unset ones keep the algorithm's defaults.

    Destinations the algorithm creates by default go to ``output_folder`` (or temporary
    files). ``for_dialog`` leaves destinations to the dialog when no folder was chosen.
    """
    params: dict[str, Any] = {}
    layers = {
        method.before: choices.before_product or choices.before_layer,
        method.after: choices.after_product or choices.after_layer,
        method.dem: choices.dem_layer,
    }
    params.update({name: value for name, value in layers.items() if name and value})
    for band in method.bands:
        index = choices.bands.get((band.date, band.role), 0)
        if index:
            params[band.parameter] = index
    optional = {
        method.radiometry: choices.radiometry,
        method.cloud_mask: choices.cloud_mask,
        method.min_area_m2: choices.min_area_m2,
        method.model: method.model_path or None,
        method.device: choices.device,
    }
    optional.update({"EVENT_TITLE": choices.event_title or None, "BASEMAP": choices.basemap_layer})
    params.update(
        {
            name: value
            for name, value in optional.items()
            if name and value is not None and algorithm.parameterDefinition(name) is not None
        }
    )
    for definition in algorithm.destinationParameterDefinitions():
        destination_types = (
            QgsProcessingParameterRasterDestination,
            QgsProcessingParameterVectorDestination,
            QgsProcessingParameterFileDestination,
            QgsProcessingParameterFolderDestination,
        )
        if not isinstance(definition, destination_types):
            continue
        wanted = definition.createByDefault() or definition.name() in method.extra_outputs
        if definition.flags() & FLAG_OPTIONAL and not wanted:
            continue
        if choices.output_folder:
            params[definition.name()] = output_path(choices.output_folder, choices.run_name, definition)
        elif not for_dialog:
            params[definition.name()] = QgsProcessing.TEMPORARY_OUTPUT
    return params


class LogFeedback(QgsProcessingFeedback):
    """Keeps the algorithm's log and errors (written from the task's thread) for the main thread."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.errors: list[str] = []

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803 - Qt API
        self.errors.append(error)
        self.lines.append(f"ERROR: {error}")
        super().reportError(error, fatalError)

    def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt API
        self.lines.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 - Qt API
        self.lines.append(f"WARNING: {warning}")
        super().pushWarning(warning)


def first_sentence(text: str) -> str:
    """The first line of an error (Processing errors from ChangeLens are one sentence already)."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line or "The algorithm failed without a message; see the ChangeLens log."


class AlgorithmRun(QObject):
    """One background run: emits ``progress`` (0-100), then ``succeeded``, ``failed`` or ``cancelled``."""

    progress = pyqtSignal(float)
    succeeded = pyqtSignal(list, dict)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()
    # Runs in flight: the task's thread uses their context and feedback even if the panel is closed.
    _active: set[AlgorithmRun] = set()

    def __init__(
        self,
        method: MethodSpec,
        algorithm: QgsProcessingAlgorithm,
        parameters: dict[str, Any],
        project: QgsProject,
        title: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.method = method
        self.parameters = parameters
        self.project = project
        self.title = title
        self.algorithm = algorithm.create({})
        self.context = QgsProcessingContext()
        self.context.setProject(project)
        self.feedback = LogFeedback()
        self.feedback.progressChanged.connect(self.progress)
        self.task: QgsProcessingAlgRunnerTask | None = None
        self.cancel_requested = False
        self.detached = False
        self.started = 0.0

    def check(self) -> str | None:
        """The algorithm's own verdict on the parameters (None when they are fine)."""
        ok, message = self.algorithm.checkParameterValues(self.parameters, self.context)
        return None if ok else message

    def start(self) -> None:
        """Queue the run in QGIS's task manager."""
        self.started = time.monotonic()
        self.task = QgsProcessingAlgRunnerTask(self.algorithm, self.parameters, self.context, self.feedback)
        self.task.executed.connect(self._executed)
        AlgorithmRun._active.add(self)
        QgsApplication.taskManager().addTask(self.task)

    def cancel(self) -> None:
        """Ask the running algorithm to stop; it removes its partial outputs."""
        self.cancel_requested = True
        if self.task is not None:
            self.task.cancel()
        self.feedback.cancel()

    def detach(self) -> None:
        """Forget who listens (the panel is going away): the finished task then only releases the run."""
        self.detached = True
        disconnect_all(self.progress, self.succeeded, self.failed, self.cancelled)

    def log_text(self) -> str:
        """Everything the algorithm reported, for the log panel."""
        return "\n".join(self.feedback.lines)

    def _executed(self, successful: bool, results: dict) -> None:
        AlgorithmRun._active.discard(self)
        if self.detached:  # the plugin was unloaded (or QGIS is exiting): no project, log or panel to update
            return
        seconds = time.monotonic() - self.started
        details = f"{self.title} ({self.method.algorithm_id}, {seconds:.1f} s)\n{self.log_text()}"
        if not successful and (self.cancel_requested or self.feedback.isCanceled()):
            QgsMessageLog.logMessage(f"Cancelled: {details}", LOG_TAG, INFO)
            self.cancelled.emit()
            return
        if not successful:
            QgsMessageLog.logMessage(f"Failed: {details}", LOG_TAG, CRITICAL)
            self.failed.emit(first_sentence(self.feedback.errors[0] if self.feedback.errors else ""))
            return
        QgsMessageLog.logMessage(f"Finished: {details}", LOG_TAG, INFO)
        try:
            layers = add_results(self.algorithm, dict(results), self.project, self.title)
        except Exception as exc:  # noqa: BLE001 - a broken output must not be silent
            QgsMessageLog.logMessage(f"Loading the results failed: {exc!r}", LOG_TAG, CRITICAL)
            self.failed.emit(f"The run finished but its outputs could not be added to the map: {exc}")
            return
        self.succeeded.emit(layers, dict(results))


def layer_name(description: str) -> str:
    """A short layer name from a parameter description: "Polygons (class, area, ...)" -> "Polygons"."""
    short = re.sub(r"\s*\([^)]*\)\s*$", "", description).strip()
    return short or description


def _layer_for(definition: Any, path: str) -> QgsMapLayer | None:
    name = layer_name(definition.description())
    if isinstance(definition, QgsProcessingParameterRasterDestination):
        return QgsRasterLayer(path, name)
    if isinstance(definition, QgsProcessingParameterVectorDestination):
        return QgsVectorLayer(path, name, "ogr")
    return None


def result_group(project: QgsProject, title: str) -> QgsLayerTreeGroup:
    """A new sub-group for one run inside the top-level "ChangeLens" group."""
    root = project.layerTreeRoot()
    group = root.findGroup(GROUP_NAME) or root.insertGroup(0, GROUP_NAME)
    return group.insertGroup(0, title)


def add_results(algorithm: QgsProcessingAlgorithm, results: dict, project: QgsProject, title: str) -> list:
    """Load every raster and vector output into the run's group; rasters first, vectors on top."""
    loaded: list[QgsMapLayer] = []
    for definition in algorithm.destinationParameterDefinitions():
        path = results.get(definition.name())
        if not isinstance(path, str) or not path or not os.path.exists(path.split("|")[0]):
            continue
        layer = _layer_for(definition, path)
        if layer is None:
            continue
        if not layer.isValid():
            raise RuntimeError(f"QGIS cannot open the output '{path}'")
        loaded.append(layer)
    if not loaded:
        return []
    group = result_group(project, title)
    loaded.sort(key=lambda layer: (isinstance(layer, QgsRasterLayer), _is_continuous(layer)))
    for layer in loaded:
        project.addMapLayer(layer, False)
        group.addLayer(layer).setItemVisibilityChecked(True)
    group.setItemVisibilityCheckedParentRecursive(True)  # shown even if the user had unchecked "ChangeLens"
    return loaded


def _is_continuous(layer: QgsMapLayer) -> bool:
    """True for pseudocolour rasters (the driving measure), drawn below the classes."""
    renderer = layer.renderer() if isinstance(layer, QgsRasterLayer) else None
    return renderer is not None and renderer.type() != "paletted"


def report_path(algorithm: QgsProcessingAlgorithm, results: dict) -> str | None:
    """The HTML report among the results (else the PDF one), if the algorithm wrote one."""
    found = []
    for definition in algorithm.destinationParameterDefinitions():
        path = results.get(definition.name())
        if isinstance(definition, QgsProcessingParameterFileDestination) and isinstance(path, str):
            if path.lower().endswith((".html", ".htm", ".pdf")) and os.path.exists(path):
                found.append(path)
    return sorted(found, key=lambda path: path.lower().endswith(".pdf"))[0] if found else None
