"""Parameter help that states what the modeler and ``qgis_process`` users need: values, defaults, files.

Every ChangeLens parameter gets a help text made of the algorithm's own explanation (if any)
followed by facts read from the definition itself, so they cannot drift from the code: the
stable numeric values of a choice, the default, the allowed range, what an empty band means and
what an output file is.
"""

from __future__ import annotations

from qgis.core import (
    QgsProcessingDestinationParameter,
    QgsProcessingParameterBand,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from ..core.methods.outputs import map_output_params
from .compat import FILE_BEHAVIOR_FOLDER, FLAG_OPTIONAL

_UNBOUNDED = 1e300

# What the shared outputs (polygons, clean-up, table, report) mean: their core declarations' help.
SHARED_HELP = {param.name: param.help for param in map_output_params("")}


def _number(value: float) -> str:
    return f"{value:g}"


def _facts(definition: QgsProcessingParameterDefinition) -> str:
    optional = bool(definition.flags() & FLAG_OPTIONAL)
    default = definition.defaultValue()
    if isinstance(definition, QgsProcessingParameterEnum) and definition.usesStaticStrings():
        names = "; ".join(f'"{option}"' for option in definition.options())
        return f"Given by name: {names}." + (f' Default: "{default}".' if default else "")
    if isinstance(definition, QgsProcessingParameterEnum):
        options = definition.options()
        values = "; ".join(f"{i} = {label}" for i, label in enumerate(options))
        text = f"Values (stable: new ones are only appended): {values}."
        if isinstance(default, int) and 0 <= default < len(options):
            text += f" Default: {default} ({options[default]})."
        return text
    if isinstance(definition, QgsProcessingParameterBoolean):
        return f"Default: {'yes' if default else 'no'}."
    if isinstance(definition, QgsProcessingParameterNumber):
        if default is not None:
            parts = [f"Default: {_number(default)}"]
        else:
            parts = ["Default: empty (not set)" if optional else "No default"]
        low, high = definition.minimum(), definition.maximum()
        if low > -_UNBOUNDED and high < _UNBOUNDED:
            parts.append(f"from {_number(low)} to {_number(high)}")
        elif low > -_UNBOUNDED:
            parts.append(f"at least {_number(low)}")
        elif high < _UNBOUNDED:
            parts.append(f"at most {_number(high)}")
        return ", ".join(parts) + "."
    if isinstance(definition, QgsProcessingParameterBand):
        return "Band number (1 = first band); empty (default): found from the band descriptions."
    if isinstance(definition, QgsProcessingParameterString):
        return f'Default: "{default}".' if default else "Default: empty."
    if isinstance(definition, QgsProcessingParameterFile):
        if definition.behavior() == FILE_BEHAVIOR_FOLDER:
            return "A folder." + (" Optional." if optional else "")
        kind = f"A .{definition.extension()} file" if definition.extension() else "A file"
        return (
            kind
            + (f" ({definition.fileFilter()})" if definition.fileFilter() else "")
            + "."
            + (" Optional." if optional else "")
        )
    if isinstance(definition, QgsProcessingParameterRasterLayer):
        return "A raster file GDAL reads (GeoTIFF, JP2, VRT ...)." + (" Optional." if optional else "")
    if isinstance(definition, QgsProcessingDestinationParameter):
        if isinstance(definition, QgsProcessingParameterRasterDestination):
            kind = "GeoTIFF with its style (.qml; class rasters also carry colours and class names)"
        elif isinstance(definition, (QgsProcessingParameterVectorDestination, QgsProcessingParameterFeatureSink)):
            kind = "Vector or table file, any OGR format (GeoPackage or CSV by default)"
        elif isinstance(definition, QgsProcessingParameterFileDestination):
            kind = f"File ({definition.fileFilter()})" if definition.fileFilter() else "File"
        else:
            kind = "Output"
        if optional and not definition.createByDefault():
            return f"{kind}. Skipped unless you give a path."
        if optional:
            return f"{kind}. Written by default; leave it empty to skip it."
        return f"{kind}."
    return ""


def parameter_help(definition: QgsProcessingParameterDefinition, explanation: str = "") -> str:
    """The help text of ``definition``: ``explanation`` (or the shared one) then the facts read from it."""
    meaning = explanation.strip() or SHARED_HELP.get(definition.name(), "")
    return " ".join(part for part in (meaning, _facts(definition)) if part)
