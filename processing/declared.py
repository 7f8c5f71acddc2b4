"""Processing parameters from core declarations, and the values a run reads back from them.

Each core parameter declaration (:mod:`changelens.core.methods.declaration`) becomes exactly
one ``QgsProcessingParameter*``; names, labels, defaults, ranges and enum order come from
the declaration, so the Processing dialog, the modeler, ``qgis_process`` and the command line
agree by construction.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingParameterBand,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from ..core.methods.declaration import (
    BandChoice,
    Choice,
    Flag,
    ImageInput,
    IndexMethod,
    Number,
    Param,
    RasterOut,
    RunRequest,
    Text,
)
from ..core.methods.outputs import FileOut, LayerIn, VectorOut
from .base import optional_band, optional_output, raster_path, run_core
from .compat import FLAG_ADVANCED, NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR, SOURCE_VECTOR_POLYGON


def definition(param: Param) -> QgsProcessingParameterDefinition:
    """The Processing parameter for one declaration (advanced ones flagged)."""
    if isinstance(param, ImageInput):
        made = QgsProcessingParameterRasterLayer(param.name, param.label, optional=param.optional)
    elif isinstance(param, BandChoice):
        made = QgsProcessingParameterBand(param.name, param.label, None, param.parent, optional=True)
    elif isinstance(param, Number):
        kind = NUMBER_INTEGER if param.integer else NUMBER_DOUBLE
        bounds = {}
        if param.minimum is not None:
            bounds["minValue"] = param.minimum
        if param.maximum is not None:
            bounds["maxValue"] = param.maximum
        made = QgsProcessingParameterNumber(
            param.name, param.label, kind, param.default, optional=param.optional, **bounds
        )
    elif isinstance(param, Choice):
        made = QgsProcessingParameterEnum(
            param.name,
            param.label,
            [label for _key, label in param.choices],
            defaultValue=param.keys.index(param.default),
        )
    elif isinstance(param, Flag):
        made = QgsProcessingParameterBoolean(param.name, param.label, param.default)
    elif isinstance(param, Text):
        made = QgsProcessingParameterString(param.name, param.label, param.default, optional=param.optional)
    elif isinstance(param, RasterOut):
        made = QgsProcessingParameterRasterDestination(
            param.name, param.label, optional=param.optional, createByDefault=param.create_by_default
        )
    elif isinstance(param, VectorOut):
        made = QgsProcessingParameterVectorDestination(
            param.name,
            param.label,
            SOURCE_VECTOR_POLYGON if param.geometry else SOURCE_VECTOR,
            optional=param.optional,
            createByDefault=param.create_by_default,
        )
    elif isinstance(param, FileOut):
        made = QgsProcessingParameterFileDestination(
            param.name, param.label, param.file_filter, optional=param.optional, createByDefault=param.create_by_default
        )
    elif isinstance(param, LayerIn):
        made = QgsProcessingParameterMapLayer(param.name, param.label, optional=param.optional)
    else:
        raise TypeError(f"no Processing parameter for {type(param).__name__}")
    if param.advanced:
        made.setFlags(made.flags() | FLAG_ADVANCED)
    return made


def config_value(
    alg: QgsProcessingAlgorithm, param: Param, parameters: dict[str, Any], context: QgsProcessingContext
) -> Any:
    """The typed value of a configuration parameter (number, choice key, flag, text) as Processing reads it."""
    name = param.name
    if isinstance(param, Number):
        if parameters.get(name) in (None, "") and param.optional:
            return None
        return (alg.parameterAsInt if param.integer else alg.parameterAsDouble)(parameters, name, context)
    if isinstance(param, Choice):
        return param.keys[alg.parameterAsEnum(parameters, name, context)]
    if isinstance(param, Flag):
        return alg.parameterAsBoolean(parameters, name, context)
    if isinstance(param, Text):
        return alg.parameterAsString(parameters, name, context) or ""
    raise TypeError(type(param).__name__)


def read_request(
    alg: QgsProcessingAlgorithm, method: IndexMethod, parameters: dict[str, Any], context: QgsProcessingContext
) -> RunRequest:
    """The core request of one run: config (checked), image paths, band choices and raster outputs."""
    values = {
        p.name: config_value(alg, p, parameters, context)
        for p in method.params
        if isinstance(p, (Number, Choice, Flag, Text))
    }
    config = run_core(lambda: method.build_config(values))
    images: dict[str, str | None] = {}
    for image in method.images():
        if image.optional and parameters.get(image.name) in (None, ""):
            images[image.key] = None
        else:
            images[image.key] = raster_path(alg, parameters, image.name, context, image.display)
    keys = {image.name: image.key for image in method.images()}
    bands: dict[str, dict[str, Any]] = {}
    for band in method.band_choices():
        bands.setdefault(keys[band.parent], {})[band.role] = optional_band(alg, parameters, band.name, context)
    outputs = {out.key: optional_output(alg, parameters, out.name, context) for out in method.raster_outputs()}
    return RunRequest(images, config, outputs, bands)
