"""The ChangeLens Processing provider (id ``changelens``)."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .base import icon
from .burn_severity import BurnSeverityAlgorithm
from .cva import CvaAlgorithm
from .flood_optical import OpticalFloodAlgorithm
from .flood_sar import SarFloodAlgorithm
from .landslide import LandslideAlgorithm
from .model_metadata import EditModelMetadataAlgorithm
from .run_model import RunModelAlgorithm


class ChangeLensProvider(QgsProcessingProvider):
    """Registers every ChangeLens algorithm under one provider."""

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
        for algorithm in (
            BurnSeverityAlgorithm(),
            SarFloodAlgorithm(),
            OpticalFloodAlgorithm(),
            LandslideAlgorithm(),
            CvaAlgorithm(),
            RunModelAlgorithm(),
            EditModelMetadataAlgorithm(),
        ):
            self.addAlgorithm(algorithm)
