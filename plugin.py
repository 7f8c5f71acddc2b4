"""The ChangeLens plugin: Processing provider, toolbar button and menu entry."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QAction, QDockWidget

from .processing.base import icon
from .processing.lifecycle import alive, processing_registry
from .processing.provider import ChangeLensProvider

MENU = "&ChangeLens"


class ChangeLensPlugin:
    """Registers the provider in ``initProcessing`` (also used by ``qgis_process``) and the GUI in ``initGui``."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.provider: ChangeLensProvider | None = None
        self.actions: list[QAction] = []
        self.dock: QDockWidget | None = None
        self.context_actions: list = []

    def initProcessing(self) -> None:  # noqa: N802 - QGIS plugin API
        """Register the Processing provider once."""
        if self.provider is None:
            self.provider = ChangeLensProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS plugin API
        """Add the toolbar button and the menu entry."""
        self.initProcessing()
        action = QAction(icon("changelens.svg"), "ChangeLens", self.iface.mainWindow())
        action.setObjectName("changelens_open")
        action.setToolTip("ChangeLens: map what changed between two images")
        action.setCheckable(True)
        action.toggled.connect(self.toggle_panel)
        self.iface.addToolBarIcon(action)
        self.iface.addPluginToRasterMenu(MENU, action)
        self.actions.append(action)
        for text, name, slot in (
            ("Model manager…", "changelens_models", self.open_models),
            ("Dependency doctor…", "changelens_doctor", self.open_doctor),
        ):
            extra = QAction(text, self.iface.mainWindow())
            extra.setObjectName(name)
            extra.triggered.connect(slot)
            self.iface.addPluginToRasterMenu(MENU, extra)
            self.actions.append(extra)
        self._add_workflow_actions()

    def _add_workflow_actions(self) -> None:
        """Let the Processing Toolbox open shipped workflows in the Model Designer."""
        from processing.gui.ProviderActions import ProviderContextMenuActions

        from .ui.workflow_actions import EditWorkflowAction

        self.context_actions = [EditWorkflowAction()]
        ProviderContextMenuActions.registerProviderContextMenuActions(self.context_actions)

    def toggle_panel(self, visible: bool) -> None:
        """Show or hide the ChangeLens dock (created on first use)."""
        if self.dock is None:
            if not visible:
                return
            from .ui.panel import ChangeLensDock

            self.dock = ChangeLensDock(self.iface.messageBar(), self.iface.mainWindow())
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            self.dock.visibilityChanged.connect(self._sync_action)
        self.dock.setVisible(visible)
        if visible:
            self.dock.raise_()

    def _sync_action(self, _visible: bool) -> None:
        """Keep the button's state in step with the dock (closed by its own X, or tabbed away)."""
        if self.dock is not None and self.actions:
            self.actions[0].blockSignals(True)
            self.actions[0].setChecked(not self.dock.isHidden())
            self.actions[0].blockSignals(False)

    def open_models(self) -> None:
        """The model manager (bundled and user ONNX models); the panel follows its changes."""
        from .ui.model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(self.iface.mainWindow())
        if self.dock is not None:
            dialog.models_changed.connect(self.dock.panel.reload_methods)
        dialog.exec()

    def open_doctor(self) -> None:
        """The dependency doctor (onnxruntime for this QGIS)."""
        from .ui.doctor import DoctorDialog

        DoctorDialog(self.iface.mainWindow()).exec()

    def unload(self) -> None:
        """Remove everything the plugin added.

        Also runs while QGIS exits, when the registry, the main window or the dock may already be
        destroyed: every step checks that what it touches is still alive (see processing/lifecycle.py).
        """
        self._remove_dock()
        self._remove_actions()
        self._remove_context_actions()
        self._remove_provider()

    def _remove_dock(self) -> None:
        dock, self.dock = self.dock, None
        if not alive(dock):
            return
        dock.panel.shutdown()  # cancels a run and detaches it, so a late result touches no deleted widget
        if self.iface is not None:
            self.iface.removeDockWidget(dock)
        dock.deleteLater()

    def _remove_actions(self) -> None:
        actions, self.actions = self.actions, []
        for position, action in enumerate(actions):
            if not alive(action):
                continue
            if self.iface is not None:
                if position == 0:
                    self.iface.removeToolBarIcon(action)
                self.iface.removePluginRasterMenu(MENU, action)
            action.deleteLater()

    def _remove_context_actions(self) -> None:
        actions, self.context_actions = self.context_actions, []
        if actions:
            from processing.gui.ProviderActions import ProviderContextMenuActions

            ProviderContextMenuActions.deregisterProviderContextMenuActions(actions)

    def _remove_provider(self) -> None:
        provider, self.provider = self.provider, None
        registry = processing_registry()
        if alive(provider) and registry is not None and registry.providerById(provider.id()) is provider:
            registry.removeProvider(provider)
