"""QGIS API names that differ between QGIS 3.22 and later releases (QGIS 4 drops the old ones)."""

from __future__ import annotations

from qgis.core import Qgis, QgsProcessingParameterNumber

_NUMBER_TYPES = getattr(Qgis, "ProcessingNumberParameterType", None)

NUMBER_INTEGER = _NUMBER_TYPES.Integer if _NUMBER_TYPES else QgsProcessingParameterNumber.Integer
NUMBER_DOUBLE = _NUMBER_TYPES.Double if _NUMBER_TYPES else QgsProcessingParameterNumber.Double
