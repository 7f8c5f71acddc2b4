"""The ChangeLens Processing provider (id ``changelens``)."""

from __future__ import annotations

from qgis.core import QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..core.methods import METHODS
from .base import icon
from .compat import WARNING
from .lifecycle import disconnect, processing_registry
from .method_algorithm import MethodAlgorithm
from .model_metadata import EditModelMetadataAlgorithm
from .run_model import RunModelAlgorithm


class ChangeLensProvider(QgsProcessingProvider):
    """Registers every ChangeLens algorithm under one provider, plus the shipped workflows."""

    def __init__(self) -> None:
        super().__init__()
        registry = processing_registry()
        if registry is not None:
            registry.providerAdded.connect(self._provider_added)

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

    def defaultVectorFileExtension(self, hasGeometry: bool = True) -> str:  # noqa: N802, N803 - Qt API
        """GeoPackage for layers, CSV for tables without geometry (area statistics)."""
        return "gpkg" if hasGeometry else "csv"

    def loadAlgorithms(self) -> None:  # noqa: N802 - Qt API
        for method in METHODS:
            self.addAlgorithm(MethodAlgorithm(method))
        for algorithm in (
            RunModelAlgorithm(),
            EditModelMetadataAlgorithm(),
        ):
            self.addAlgorithm(algorithm)

        self._load_workflows()

    # -- workflows and batch runs ----------------------------------------------------------------

    def _load_workflows(self) -> None:
        """The many-pairs runner and the shipped ``.model3`` workflows (group "Workflows")."""
        from .batch_pairs import ManyPairsAlgorithm
        from .workflows import WORKFLOW_DIR, load_workflows

        self.addAlgorithm(ManyPairsAlgorithm())
        registry = processing_registry()
        if registry is None or registry.providerById(self.id()) is not self:
            return  # loaded again by _provider_added, once their child algorithms can be found
        workflows, problems = load_workflows(WORKFLOW_DIR, {a.name() for a in self.algorithms()})
        for workflow in workflows:
            self.addAlgorithm(workflow)
        for problem in problems:
            QgsMessageLog.logMessage(problem, "ChangeLens", WARNING)

    def _provider_added(self, provider_id: str) -> None:
        """Reload the workflows when ChangeLens (or a provider a workflow waits for) is registered."""
        waiting = [a for a in self.algorithms() if a.groupId() == "workflows" and not a.canExecute()[0]]
        if provider_id == self.id() or waiting:
            self.refreshAlgorithms()

    def unload(self) -> None:
        """Stop following registrations; at exit QGIS calls this after the registry is gone (nothing to do)."""
        disconnect(processing_registry(), "providerAdded", self._provider_added)
