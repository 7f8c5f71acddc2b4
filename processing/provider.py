"""The ChangeLens Processing provider (id ``changelens``)."""

from __future__ import annotations

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .base import icon
from .batch_pairs import ManyPairsAlgorithm
from .burn_severity import BurnSeverityAlgorithm
from .workflows import WORKFLOW_DIR, load_workflows


class ChangeLensProvider(QgsProcessingProvider):
    """Registers every ChangeLens algorithm under one provider, plus the shipped workflows."""

    def __init__(self) -> None:
        super().__init__()
        QgsApplication.processingRegistry().providerAdded.connect(self._provider_added)

    def id(self) -> str:
        return "changelens"

    def name(self) -> str:
        return "ChangeLens"

    def longName(self) -> str:  # noqa: N802 - Qt API
        return "ChangeLens: change, burn, flood and landslide mapping"

    def icon(self) -> QIcon:
        return icon("changelens.svg")

    def supportedOutputRasterLayerExtensions(self) -> list[str]:  # noqa: N802 - Qt API
        return ["tif"]

    def unload(self) -> None:
        QgsApplication.processingRegistry().providerAdded.disconnect(self._provider_added)

    def _provider_added(self, provider_id: str) -> None:
        """Reload the workflows once their child algorithms can be found in the registry."""
        if provider_id == self.id() or any(not w.canExecute()[0] for w in self._workflows()):
            self.refreshAlgorithms()

    def _workflows(self) -> list:
        return [a for a in self.algorithms() if a.groupId() == "workflows" and a.name() != "manypairs"]

    def loadAlgorithms(self) -> None:  # noqa: N802 - Qt API
        for algorithm in (BurnSeverityAlgorithm(), ManyPairsAlgorithm()):
            self.addAlgorithm(algorithm)
        if QgsApplication.processingRegistry().providerById(self.id()) is not self:
            return  # loaded again by _provider_added, when child algorithms resolve
        workflows, problems = load_workflows(WORKFLOW_DIR, {a.name() for a in self.algorithms()})
        for workflow in workflows:
            self.addAlgorithm(workflow)
        for problem in problems:
            QgsMessageLog.logMessage(problem, "ChangeLens", Qgis.Warning)
