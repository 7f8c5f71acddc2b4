"""The ChangeLens dock: from two loaded images to a styled map in one click.

The panel only gathers choices; the work is done by the Processing algorithm named in
``ui/tasks.py``, run in the background by :class:`ui.runner.AlgorithmRun`.
"""

from __future__ import annotations

import os
import time
from html import escape
from typing import Any, Callable

from qgis.core import Qgis, QgsProcessingParameterEnum, QgsProject, QgsRasterLayer, QgsSettings
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import Qt, QUrl
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import (
    QDockWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..processing.catalog import RuntimeStatus, onnxruntime_status
from ..processing.compat import CRITICAL, INFO, SUCCESS, WARNING
from .output_folder import PanelOutputs, ensure_folder
from .panel_dialogs import PanelDialogs
from .panel_layout import PanelLayout, disable_item
from .products import ProductInputs
from .runner import AlgorithmRun, RunChoices, build_parameters, report_path
from .tasks import AFTER, BEFORE, METHODS, TASKS, MethodSpec, methods_for, registered_algorithm, unavailable_reason
from .tasks import task_unavailable_reason as task_reason

TASK_SETTING = "changelens/panel/task"


class ChangeLensPanel(ProductInputs, PanelDialogs, PanelOutputs, PanelLayout):
    """Task, inputs, bands, method, options and Run; ``message_bar`` gets errors in one sentence."""

    def __init__(
        self,
        message_bar: QgsMessageBar | None = None,
        project: QgsProject | None = None,
        methods: tuple[MethodSpec, ...] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("changelens_panel")
        self.project = project or QgsProject.instance()
        self.fixed_methods = methods
        self.methods = methods or METHODS
        self.runtime: RuntimeStatus | None = None
        self.doctor_shown = False
        self.run: AlgorithmRun | None = None
        self.last_layers: list = []
        self.last_report: str | None = None
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl
        self.dialogs: list = []
        self.product_notes: dict[str, tuple[str, str | None]] = {BEFORE: ("", None), AFTER: ("", None)}
        layout = QVBoxLayout(self)
        self.own_bar = QgsMessageBar(self)
        self.own_bar.setVisible(message_bar is None)
        self.message_bar = message_bar or self.own_bar
        layout.addWidget(self.own_bar)
        choices = QWidget()
        column = QVBoxLayout(choices)
        column.setContentsMargins(0, 0, 0, 0)
        for box in (
            self._build_task_box(),
            self._build_inputs_box(),
            self._build_bands_box(),
            self._build_options_box(),
            self._build_output_box(),
        ):
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea(objectName="changelens_scroll")  # the choices scroll; Run stays in view
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # never clip a wide widget
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(choices)
        layout.addWidget(scroll, 1)
        layout.addLayout(self._build_run_row())
        layout.addLayout(self._build_tools_row())
        self.syncing_folder = False
        self.sync_folder()
        self.project.readProject.connect(self.sync_folder)
        self.project.cleared.connect(self.sync_folder)
        self.project.fileNameChanged.connect(self.sync_folder)
        self.reload_methods()

    # ----- state
    def _open_link(self, link: str) -> None:
        self.open_url(QUrl(link))

    def reload_methods(self) -> None:
        """Re-read the method table and the installed models (after an import or removal)."""
        if self.fixed_methods is None:
            from .models import list_models, model_methods

            self.methods = METHODS + model_methods(list_models())
        task = self.task_combo.currentData() or QgsSettings().value(TASK_SETTING, "", str)
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        self._fill_tasks()
        if task and task_reason(task, self.methods) is None:
            self.task_combo.setCurrentIndex(self.task_combo.findData(task))
        self.task_combo.blockSignals(False)
        self._task_changed()

    def _fill_tasks(self) -> None:
        for index, task in enumerate(TASKS):
            reason = task_reason(task.key, self.methods)
            self.task_combo.addItem(task.label if reason is None else f"{task.label} (not available)", task.key)
            if reason is not None:
                disable_item(self.task_combo, index, f"Not available: {reason}.")
        first = next((i for i, t in enumerate(TASKS) if task_reason(t.key, self.methods) is None), 0)
        self.task_combo.setCurrentIndex(first)

    def current_task(self) -> str:
        """The key of the chosen task."""
        return self.task_combo.currentData() or TASKS[0].key

    def current_method(self) -> MethodSpec | None:
        """The chosen method, or None when the task has none that can run."""
        method = self.method_combo.currentData()
        return method if isinstance(method, MethodSpec) and unavailable_reason(method) is None else None

    def _task_changed(self) -> None:
        task = next(t for t in TASKS if t.key == self.current_task())
        reason = task_reason(task.key, self.methods)
        if reason is None:
            QgsSettings().setValue(TASK_SETTING, task.key)  # the next session opens on the same task
        self.task_help.setText(task.help if reason is None else f"{task.help}<br><i>Not available: {reason}.</i>")
        self.method_combo.blockSignals(True)
        self.method_combo.clear()
        first = runnable = None
        for index, method in enumerate(methods_for(task.key, self.methods)):
            why = unavailable_reason(method)
            self.method_combo.addItem(method.label if why is None else f"{method.label} (not available)", method)
            if why is not None:
                disable_item(self.method_combo, index, f"Not available: {why}.")
                continue
            first = index if first is None else first
            if runnable is None and not (method.model and not self._runtime_ok()):
                runnable = index  # a preferred model is skipped while onnxruntime is missing
        self.method_combo.setCurrentIndex(runnable if runnable is not None else first or 0)
        self.method_combo.blockSignals(False)
        self._method_changed()

    def _runtime_ok(self) -> bool:
        if self.runtime is None:
            self.runtime = onnxruntime_status()
        return self.runtime.ok

    def _method_changed(self) -> None:
        method = self.current_method()
        self.method_card.setText(method.summary if method else "")
        self._show_method_name()
        self.band_mapping.configure(
            method.roles if method else (),
            optional={r for r in method.roles if method.role_optional(r)} if method else (),
        )
        self.bands_box.setVisible(bool(method and method.roles))
        self.number_sections()
        self.before_label.setVisible(not method or bool(method.before))
        self.before_combo.setVisible(not method or bool(method.before))
        self.before_label.setText("Before (optional)" if method and method.before_optional else "Before")
        self.after_label.setText("After" if not method or method.before else "Image")
        self.dem_label.setVisible(bool(method and method.dem))
        self.dem_combo.setVisible(bool(method and method.dem))
        self.dem_label.setText("DEM (optional)" if method and method.dem_optional else "DEM")
        self._fill_choice(self.radiometry_combo, self.radiometry_label, method, method.radiometry if method else None)
        self._fill_choice(self.cloud_combo, self.cloud_label, method, method.cloud_mask if method else None)
        self._fill_devices(method)
        if method and method.model and self.runtime is not None and not self.runtime.ok and not self.doctor_shown:
            self.doctor_shown = True  # explain once per session, then the status line and Doctor… remain
            self.open_doctor()
        algorithm = registered_algorithm(method) if method and method.min_area_m2 else None
        supported = bool(algorithm and algorithm.parameterDefinition(method.min_area_m2))
        pixels = algorithm.parameterDefinition("MIN_AREA_PIXELS") if supported else None
        default = f"{int(pixels.defaultValue())} pixels" if pixels is not None and pixels.defaultValue() else "none"
        self.mmu_spin.setEnabled(supported)
        self.mmu_spin.setSpecialValueText(default if supported else "n/a")
        self.mmu_spin.setToolTip(
            f"Regions smaller than this area merge into their neighbours, in the classes and the polygons; "
            f"at 0 the default applies ({default})."
            if supported
            else "This method does not offer a minimum mapping unit yet."
        )
        self._update_state()

    def _fill_choice(self, combo: Any, label: Any, method: MethodSpec | None, name: str | None) -> None:
        """Offer the algorithm's enum ``name`` (reflectance, cloud mask) in ``combo``; hidden when it has none."""
        combo.clear()
        algorithm = registered_algorithm(method) if method and name else None
        definition = algorithm.parameterDefinition(name) if algorithm else None
        shown = isinstance(definition, QgsProcessingParameterEnum)
        if shown:
            combo.addItems(definition.options())
            combo.setCurrentIndex(int(definition.defaultValue() or 0))
        combo.setVisible(shown)
        label.setVisible(shown)

    def _fill_devices(self, method: MethodSpec | None) -> None:
        """Offer the algorithm's devices; those the installed onnxruntime lacks are greyed out."""
        self.device_combo.clear()
        algorithm = registered_algorithm(method) if method and method.device else None
        definition = algorithm.parameterDefinition(method.device) if algorithm else None
        if method and method.model and self.runtime is None:
            self.runtime = onnxruntime_status()
        shown = isinstance(definition, QgsProcessingParameterEnum)
        self.device_combo.setVisible(shown)
        self.device_label.setVisible(shown)
        if not shown:
            self.device_combo.setEnabled(False)  # index methods run on the CPU
            return
        if self.runtime is None:
            self.runtime = onnxruntime_status()
        self.device_combo.setEnabled(True)
        self.device_combo.setToolTip("Where the model runs; GPUs are listed when the installed onnxruntime has them.")
        for index, label in enumerate(definition.options()):
            self.device_combo.addItem(label, index)
            provider = method.devices[index] if index < len(method.devices) else None
            if provider is not None and provider not in self.runtime.providers:
                disable_item(self.device_combo, index, "Not offered by the installed onnxruntime.")
        self.device_combo.setCurrentIndex(int(definition.defaultValue() or 0))

    def _layer_changed(self, date: str, layer: Any) -> None:
        if isinstance(layer, QgsRasterLayer) and self.products[date].path():
            self.products[date].set_path("")  # a layer chosen replaces the product
        self.band_mapping.set_layer(date, layer if isinstance(layer, QgsRasterLayer) else None)
        self._update_state()

    def blocking_reason(self) -> str | None:
        """Why Run cannot start now (None when it can)."""
        method = self.current_method()
        if method is None:
            return task_reason(self.current_task(), self.methods) or "Choose a method."
        if method.model and self.runtime is not None and not self.runtime.ok:
            return "Models need onnxruntime, which is not usable here: click Doctor… to install it."
        if method.before and not method.before_optional and not self._date_given(BEFORE):
            return "Choose the before image (a layer or a product)."
        if not self._date_given(AFTER):
            return "Choose the after image (a layer or a product)."
        problems = [p for _text, p in self.product_notes.values() if p]
        if problems:
            return problems[0]
        layers = self.before_combo.currentLayer(), self.after_combo.currentLayer()
        if method.before and layers[0] is not None and layers[0] is layers[1]:
            return "The before and after images are the same layer: choose two different dates."
        if method.dem and not method.dem_optional and self.dem_combo.currentLayer() is None:
            return "Choose a DEM (elevation raster)."
        missing = self.band_mapping.missing()
        if missing:
            return f"Choose the band for: {', '.join(missing)}."
        if self.folder_radio.isChecked() and not self.folder_widget.filePath():
            return "Choose the output folder, or use temporary files."
        return None

    def _update_state(self) -> None:
        running = self.run is not None
        reason = self.blocking_reason()
        self.run_button.setEnabled(reason is None and not running)
        self.processing_button.setEnabled(self.current_method() is not None and not running)
        if not running:
            self.status.setText(reason or "Ready.")

    def choices(self) -> RunChoices:
        """The current choices as plain values."""
        method = self.current_method()
        before, after, dem = (c.currentLayer() for c in (self.before_combo, self.after_combo, self.dem_combo))
        return RunChoices(
            before_layer=before.id() if before else None,
            after_layer=after.id() if after else None,
            dem_layer=dem.id() if dem and method and method.dem else None,
            bands=self.band_mapping.bands(),
            radiometry=self.radiometry_combo.currentIndex() if not self.radiometry_combo.isHidden() else None,
            cloud_mask=self.cloud_combo.currentIndex() if not self.cloud_combo.isHidden() else None,
            before_product=self.products[BEFORE].path() or None,
            after_product=self.products[AFTER].path() or None,
            min_area_m2=self.mmu_spin.value() if self.mmu_spin.isEnabled() else None,
            device=self.device_combo.currentData() if self.device_combo.isEnabled() else None,
            output_folder=(self.folder_widget.filePath() or None) if self.folder_radio.isChecked() else None,
            run_name=f"{self.current_task()}_{time.strftime('%Y%m%d_%H%M%S')}",
            **self.report_choices(),
        )

    # ----- actions
    def notify(self, text: str, level: Qgis.MessageLevel = INFO, duration: int = 8) -> None:
        """One sentence in the message bar (errors stay until dismissed)."""
        self.message_bar.pushMessage("ChangeLens", text, level, 0 if level == CRITICAL else duration)

    def start_run(self) -> None:
        """Start the chosen algorithm in the background."""
        reason = self.blocking_reason()
        method = self.current_method()
        if reason is not None or method is None or self.run is not None:
            self.notify(reason or "A run is already in progress.", WARNING)
            return
        folder = self.folder_widget.filePath() if self.folder_radio.isChecked() else ""
        problem = ensure_folder(folder) if folder else None
        if problem:
            self.notify(problem, CRITICAL)
            return
        algorithm = registered_algorithm(method)
        parameters = build_parameters(method, algorithm, self.choices())
        after = self.after_combo.currentLayer()
        name = after.name() if after is not None else os.path.basename(self.products[AFTER].path().rstrip("/\\"))
        title = f"{method.label.split(' (')[0]}: {name} ({time.strftime('%H:%M:%S')})"
        run = AlgorithmRun(method, algorithm, parameters, self.project, title)
        problem = run.check()
        if problem:
            self.notify(problem, CRITICAL)
            return
        self.run = run
        run.progress.connect(lambda value: self.progress.setValue(int(value)))
        run.succeeded.connect(self._succeeded)
        run.failed.connect(self._failed)
        run.cancelled.connect(self._cancelled)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Running {method.label}…")
        self._update_state()
        run.start()

    def cancel_run(self) -> None:
        """Stop the run; the algorithm removes its partial outputs."""
        if self.run is not None:
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
            self.run.cancel()

    def shutdown(self) -> None:
        """Before the panel goes away (plugin unload, QGIS exit): cancel and detach the run, close dialogs.

        The run's task may still finish later; detached, it touches neither this panel nor the project.
        """
        run, self.run = self.run, None
        if run is not None:
            run.cancel()
            run.detach()
        self.close_dialogs()

    def _finish(self, status: str) -> None:
        self.run = None
        self.cancel_button.setEnabled(False)
        self._update_state()
        self.status.setText(status)

    def _succeeded(self, layers: list, results: dict) -> None:
        run = self.run
        self.last_layers = layers
        self.last_report = report_path(run.algorithm, results) if run else None
        names = ", ".join(layer.name() for layer in layers) or "no map layers"
        self.progress.setValue(100)
        done = f"Done: added {escape(names)} to the 'ChangeLens' group."
        if self.last_report:
            link = QUrl.fromLocalFile(self.last_report).toString()
            done += f' Report: <a href="{escape(link)}">{escape(self.last_report)}</a>'
        self._finish(done)
        self.notify(f"{run.title if run else 'Run'} finished: {len(layers)} layer(s) added.", SUCCESS)
        if self.last_report:
            self.open_url(QUrl.fromLocalFile(self.last_report))

    def _failed(self, message: str) -> None:
        self.progress.setValue(0)
        self._finish(f"Failed: {message}")
        self.notify(message, CRITICAL)

    def _cancelled(self) -> None:
        self.progress.setValue(0)
        self._finish("Cancelled; no output was written.")
        self.notify("The run was cancelled; no output was written.", INFO)


class ChangeLensDock(QDockWidget):
    """The dock that holds the panel."""

    def __init__(self, message_bar: QgsMessageBar | None = None, parent: QWidget | None = None) -> None:
        super().__init__("ChangeLens", parent)
        self.setObjectName("ChangeLensDock")
        self.panel = ChangeLensPanel(message_bar, parent=self)
        self.setWidget(self.panel)
        self.setMinimumWidth(320)
