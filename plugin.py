"""The ChangeLens plugin: Processing provider, toolbar button and menu entry."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QAction

from .processing.base import icon
from .processing.provider import ChangeLensProvider

MENU = "&ChangeLens"


class ChangeLensPlugin:
    """Registers the provider in ``initProcessing`` (also used by ``qgis_process``) and the GUI in ``initGui``."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.provider: ChangeLensProvider | None = None
        self.actions: list[QAction] = []
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
        action.triggered.connect(self.open_main)
        self.iface.addToolBarIcon(action)
        self.iface.addPluginToRasterMenu(MENU, action)
        self.actions.append(action)
        self._add_workflow_actions()

    def _add_workflow_actions(self) -> None:
        """Let the Processing Toolbox open shipped workflows in the Model Designer."""
        from processing.gui.ProviderActions import ProviderContextMenuActions

        from .ui.workflow_actions import EditWorkflowAction

        self.context_actions = [EditWorkflowAction()]
        ProviderContextMenuActions.registerProviderContextMenuActions(self.context_actions)

    def open_main(self) -> None:
        """Open the burn severity dialog (the first ChangeLens tool)."""
        from processing import execAlgorithmDialog

        execAlgorithmDialog("changelens:burnseverity", {})

    def unload(self) -> None:
        """Remove everything the plugin added."""
        for action in self.actions:
            self.iface.removeToolBarIcon(action)
            self.iface.removePluginRasterMenu(MENU, action)
            action.deleteLater()
        self.actions.clear()
        if self.context_actions:
            from processing.gui.ProviderActions import ProviderContextMenuActions

            ProviderContextMenuActions.deregisterProviderContextMenuActions(self.context_actions)
            self.context_actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
