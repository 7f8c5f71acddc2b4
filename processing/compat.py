"""QGIS enum values that ChangeLens uses, valid from QGIS 3.22 through QGIS 4 (Qt6).

QGIS moved its class enums into the ``Qgis`` namespace (``QgsProcessingParameterNumber.Double``
became ``Qgis.ProcessingNumberParameterType.Double`` in 3.36, ``QgsWkbTypes.NoGeometry`` became
``Qgis.WkbType.NoGeometry`` in 3.30 …); QGIS 4 drops the old names. Each constant here is the new
value when this QGIS has it and the old, fully scoped one otherwise, so code written against these
names runs unchanged on every supported version. Qt's own enums need no table: write them scoped
(``Qt.ItemDataRole.UserRole``), which PyQt5 5.15 accepts too.
"""

from __future__ import annotations

from typing import Any, Callable

from qgis.core import (
    Qgis,
    QgsContrastEnhancement,
    QgsField,
    QgsMapLayerProxyModel,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QMetaType, QVariant


def _newer(scope: str, name: str, older: Callable[[], Any]) -> Any:
    """``Qgis.<scope>.<name>`` when this QGIS has it, else what ``older`` returns (the pre-move value)."""
    enum = getattr(Qgis, scope, None)
    return getattr(enum, name) if enum is not None and hasattr(enum, name) else older()


# Message levels (message bar, log): Qgis.MessageLevel exists on every supported version.
INFO = Qgis.MessageLevel.Info
WARNING = Qgis.MessageLevel.Warning
CRITICAL = Qgis.MessageLevel.Critical
SUCCESS = Qgis.MessageLevel.Success

# QgsProcessingParameterNumber types (Qgis.ProcessingNumberParameterType from 3.36).
NUMBER_INTEGER = _newer("ProcessingNumberParameterType", "Integer", lambda: QgsProcessingParameterNumber.Type.Integer)
NUMBER_DOUBLE = _newer("ProcessingNumberParameterType", "Double", lambda: QgsProcessingParameterNumber.Type.Double)

# Parameter flags (Qgis.ProcessingParameterFlag from 3.36).
FLAG_ADVANCED = _newer(
    "ProcessingParameterFlag", "Advanced", lambda: QgsProcessingParameterDefinition.Flag.FlagAdvanced
)
FLAG_OPTIONAL = _newer(
    "ProcessingParameterFlag", "Optional", lambda: QgsProcessingParameterDefinition.Flag.FlagOptional
)
FLAG_HIDDEN = _newer("ProcessingParameterFlag", "Hidden", lambda: QgsProcessingParameterDefinition.Flag.FlagHidden)

# Layer types of sources and sinks (Qgis.ProcessingSourceType from 3.36).
SOURCE_VECTOR = _newer("ProcessingSourceType", "Vector", lambda: QgsProcessing.SourceType.TypeVector)
SOURCE_VECTOR_POLYGON = _newer(
    "ProcessingSourceType", "VectorPolygon", lambda: QgsProcessing.SourceType.TypeVectorPolygon
)
SOURCE_VECTOR_ANY_GEOMETRY = _newer(
    "ProcessingSourceType", "VectorAnyGeometry", lambda: QgsProcessing.SourceType.TypeVectorAnyGeometry
)
SOURCE_RASTER = _newer("ProcessingSourceType", "Raster", lambda: QgsProcessing.SourceType.TypeRaster)

# File parameters: a file or a folder (Qgis.ProcessingFileParameterBehavior from 3.36).
FILE_BEHAVIOR_FILE = _newer("ProcessingFileParameterBehavior", "File", lambda: QgsProcessingParameterFile.Behavior.File)
FILE_BEHAVIOR_FOLDER = _newer(
    "ProcessingFileParameterBehavior", "Folder", lambda: QgsProcessingParameterFile.Behavior.Folder
)

# Geometry type of a table without geometry (Qgis.WkbType from 3.30).
WKB_NO_GEOMETRY = _newer("WkbType", "NoGeometry", lambda: QgsWkbTypes.Type.NoGeometry)

# Layer filter of map layer combo boxes (Qgis.LayerFilter from 3.34).
LAYER_FILTER_RASTER = _newer("LayerFilter", "RasterLayer", lambda: QgsMapLayerProxyModel.Filter.RasterLayer)

# Map rendering flag (Qgis.MapSettingsFlag exists on every supported version).
MAP_ANTIALIASING = Qgis.MapSettingsFlag.Antialiasing

# Linear stretch of a raster band between its minimum and maximum (preview maps).
STRETCH_TO_MIN_MAX = _newer(
    "ContrastEnhancementAlgorithm",
    "StretchToMinimumMaximum",
    lambda: QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum,
)

# Field types: QgsField takes QMetaType.Type from 3.38 (QVariant.Type is deprecated there, gone in Qt6).
_METATYPE_FIELDS = Qgis.QGIS_VERSION_INT >= 33800
FIELD_INT = QMetaType.Type.Int if _METATYPE_FIELDS else QVariant.Type.Int
FIELD_LONGLONG = QMetaType.Type.LongLong if _METATYPE_FIELDS else QVariant.Type.LongLong
FIELD_DOUBLE = QMetaType.Type.Double if _METATYPE_FIELDS else QVariant.Type.Double
FIELD_STRING = QMetaType.Type.QString if _METATYPE_FIELDS else QVariant.Type.String


def make_field(name: str, field_type: Any = FIELD_STRING) -> QgsField:
    """A ``QgsField`` of one of the ``FIELD_*`` types, built the way this QGIS expects."""
    return QgsField(name, field_type)


def renderer_band(renderer: Any) -> int:
    """The band a single-band raster renderer draws: ``inputBand()`` where it exists (``band()`` is deprecated
    from QGIS 3.44 on), else ``band()`` (QGIS 3.22 has only that on the paletted renderer)."""
    own = getattr(renderer, "inputBand", None)
    return int(own() if own is not None else renderer.band())
