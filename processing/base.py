"""Shared plumbing for ChangeLens algorithms: progress, errors, layer paths and styles."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Sequence, TypeVar

from qgis.core import (
    QgsMapLayer,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtXml import QDomDocument

from ..core.errors import CancelledError, ChangeLensError, NotARasterError
from ..core.gdal_state import gdal_exceptions
from ..core.io.bandfiles import find_product, is_product_path
from ..core.io.raster import open_raster
from ..core.outputs.styles import sidecar_path
from ..core.progress import Progress
from . import console
from .compat import FLAG_ADVANCED
from .parameter_help import parameter_help

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ICON_DIR = os.path.join(PLUGIN_DIR, "icons")

T = TypeVar("T")
Params = Dict[str, Any]  # Processing parameters and results


def icon(name: str) -> QIcon:
    """An SVG icon shipped in ``icons/``, loaded by path."""
    return QIcon(os.path.join(ICON_DIR, name))


def feedback_progress(feedback: QgsProcessingFeedback | None, stages: Sequence[tuple[float, str]] = ()) -> Progress:
    """A core progress callback that drives ``feedback`` and reports its cancel state.

    ``stages`` are ``(fraction, text)`` pairs: the progress text changes when a fraction is reached.
    """
    pending = sorted(stages)

    def progress(fraction: float) -> bool:
        if feedback is None:
            return True
        while pending and fraction >= pending[0][0]:
            feedback.setProgressText(pending.pop(0)[1])
        feedback.setProgress(100.0 * fraction)
        return not feedback.isCanceled()

    return progress


def feedback_log(feedback: QgsProcessingFeedback | None) -> Callable[[str], None]:
    """A core log sink writing to the algorithm log."""

    def log(message: str) -> None:
        if feedback is not None:
            feedback.pushInfo(message)

    return log


def run_core(call: Callable[[], T]) -> T:
    """Run a core function, turning its errors into one clear Processing error."""
    try:
        return call()
    except CancelledError as exc:
        raise QgsProcessingException("The run was cancelled; no output was written.") from exc
    except ChangeLensError as exc:
        raise QgsProcessingException(str(exc)) from exc
    except (RuntimeError, OSError) as exc:  # GDAL errors (exceptions on) and the file system
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise QgsProcessingException(
            f"Reading or writing a file failed ({reason}); check the input files and the free space "
            "in the output folder."
        ) from exc


def raster_path(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext, label: str
) -> str:
    """The GDAL path of a raster parameter, or a clear error if it is not a file GDAL can read.

    A plain file path is used as given: loading it as a QGIS layer would compute a histogram
    and leave an ``.aux.xml`` next to the user's input file. A product (a Sentinel-2 ``.SAFE`` folder,
    its ``.zip`` or ``MTD_MSIL*.xml``, a Landsat folder or ``_MTL`` file, a folder or list of band files)
    and a GDAL subdataset string (``SENTINEL2_L2A:...``) are passed on as they are: core reads them.
    """
    value = parameters.get(name)
    if isinstance(value, str) and (os.path.isfile(value) or is_product_path(value) or _subdataset(value)):
        return value
    layer = alg.parameterAsRasterLayer(parameters, name, context)
    if layer is None or not layer.isValid():
        raise QgsProcessingException(f"The {label} ('{value}') could not be opened as a raster layer.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"The {label} comes from the '{layer.providerType()}' provider; ChangeLens needs a raster file "
            "(GeoTIFF, JP2, VRT, ...): export the layer to a file first."
        )
    return layer.source()


def _subdataset(value: str) -> bool:
    """A GDAL subdataset string whose file exists (``SENTINEL2_L2A:/path/MTD_MSIL2A.xml:20m:EPSG_32610``)."""
    if not value.upper().startswith("SENTINEL2_"):
        return False
    parts = value.split(":")
    return len(parts) >= 3 and any(os.path.isfile(":".join(parts[1:k])) for k in range(2, len(parts) + 1))


def advanced(alg: QgsProcessingAlgorithm, params: Sequence[QgsProcessingParameterDefinition]) -> None:
    """Add parameters flagged as advanced."""
    for param in params:
        param.setFlags(param.flags() | FLAG_ADVANCED)
        alg.addParameter(param)


def optional_band(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext
) -> int | None:
    """A band parameter's value, or None when the user left it empty (detect from descriptions)."""
    if parameters.get(name) in (None, "", 0, "0"):
        return None
    bands = alg.parameterAsInts(parameters, name, context)
    return bands[0] if bands and bands[0] > 0 else None


def optional_output(
    alg: QgsProcessingAlgorithm,
    parameters: dict[str, Any],
    name: str,
    context: QgsProcessingContext,
    file: bool = False,
) -> str | None:
    """A layer destination's path (a file destination's with ``file``), or None when the user chose to skip it."""
    value = parameters.get(name)
    if value is None or value == "":
        return None
    if file:
        return alg.parameterAsFileOutput(parameters, name, context) or None
    return alg.parameterAsOutputLayer(parameters, name, context) or None


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Names and styles an output when the desktop loads it.

    Rasters get the ``.qml`` written next to them; vector layers get ``qml`` (the same style
    their file carries). Under ``qgis_process`` nothing is loaded and this never runs.
    """

    _alive: list[StyleOnLoad] = []

    def __init__(self, layer_name: str, qml: str | None = None) -> None:
        super().__init__()
        self.layer_name = layer_name
        self.qml = qml

    @classmethod
    def create(cls, layer_name: str, qml: str | None = None) -> StyleOnLoad:
        """A post-processor kept alive for as long as QGIS may call it."""
        processor = cls(layer_name, qml)
        cls._alive.append(processor)
        return processor

    def postProcessLayer(
        self,
        layer: QgsMapLayer,
        context: QgsProcessingContext,  # noqa: N802 - Qt API
        feedback: QgsProcessingFeedback,
    ) -> None:
        if isinstance(layer, QgsRasterLayer):
            sidecar = sidecar_path(layer.source())
            if os.path.exists(sidecar):
                layer.loadNamedStyle(sidecar)
                layer.triggerRepaint()
        elif self.qml and isinstance(layer, QgsVectorLayer):
            document = QDomDocument()
            document.setContent(self.qml)
            layer.importNamedStyle(document)
            layer.triggerRepaint()
        layer.setName(self.layer_name)


def style_on_load(context: QgsProcessingContext, path: str | None, name: str, qml: str | None = None) -> None:
    """Ask the desktop to name and style ``path`` if it loads it; no-op under ``qgis_process``."""
    if path and context.willLoadLayerOnCompletion(path):
        context.layerToLoadOnCompletionDetails(path).setPostProcessor(StyleOnLoad.create(name, qml))


def style_outputs(context: QgsProcessingContext, outputs: dict[str, tuple[str | None, str]]) -> None:
    """Ask the desktop to style each raster output it loads from its sidecar."""
    for path, name in outputs.values():
        style_on_load(context, path, name)


def _product_problem(path: str) -> str | None:
    """Why ``path`` cannot be read as a product: '' when it can, None when it is a file that is no product
    (it is then checked as a raster)."""
    try:
        product = find_product(path)
    except ChangeLensError as exc:
        return str(exc)
    if product is not None:
        return ""
    if os.path.isdir(path):
        try:
            open_raster(path)  # a folder GDAL reads as a raster (a Sentinel-1 .SAFE): checked as one
            return None
        except NotARasterError:
            pass
        return (
            f"the folder '{path}' is no product ChangeLens reads (a Sentinel-2 .SAFE, a Landsat folder with its "
            "_MTL file, or a folder of band files such as B02.tif ... B12.tif)."
        )
    return None


# Toolbox groups of the ChangeLens provider: id -> title.
GROUPS = {
    "burned": "Burned area",
    "change": "Change detection",
    "flood": "Flood",
    "landslide": "Landslide",
    "models": "Models",
    "workflows": "Workflows",
}


class ChangeLensAlgorithm(QgsProcessingAlgorithm):
    """Common identity for ChangeLens algorithms (group, icon, instance creation).

    ``PARAMETER_HELP`` maps a parameter name to what it means; :meth:`addParameter` attaches it
    followed by the values, default and range read from the definition, so the toolbox, the
    modeler and ``qgis_process help`` show them for every parameter.
    """

    PARAMETER_HELP: dict[str, str] = {}
    ALGORITHM_NAME = ""  # the id after "changelens:"
    DISPLAY_NAME = ""
    GROUP_ID = ""  # a key of GROUPS

    def name(self) -> str:
        return self.ALGORITHM_NAME

    def displayName(self) -> str:  # noqa: N802 - Qt API
        return self.DISPLAY_NAME

    def group(self) -> str:
        return GROUPS[self.GROUP_ID]

    def groupId(self) -> str:  # noqa: N802 - Qt API
        return self.GROUP_ID

    def addParameter(self, definition: QgsProcessingParameterDefinition, createOutput: bool = True) -> bool:  # noqa: N802, N803
        if not definition.help():
            definition.setHelp(parameter_help(definition, self.PARAMETER_HELP.get(definition.name(), "")))
        return super().addParameter(definition, createOutput)

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802 - Qt API
        return type(self)()

    def icon(self) -> QIcon:
        return icon("changelens.svg")

    def helpUrl(self) -> str:  # noqa: N802 - Qt API
        return "https://github.com/changelens/changelens#readme"

    def processAlgorithm(  # noqa: N802 - Qt API
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Run :meth:`process` with GDAL exceptions on for this run only (the caller's mode is restored).

        Under ``qgis_process`` a failure is printed once (:mod:`.console`).
        """
        console.restore()
        try:
            with gdal_exceptions():
                return self.process(parameters, context, feedback)
        except QgsProcessingException as exc:
            console.report_failure(str(exc), feedback)
            raise

    def process(self, parameters: Params, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Params:
        """The algorithm's work (subclasses implement it instead of ``processAlgorithm``)."""
        raise NotImplementedError

    def checkParameterValues(  # noqa: N802 - Qt API
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[bool, str]:
        """Check every parameter (see :meth:`check`) with GDAL exceptions on for the check only."""
        with gdal_exceptions():
            return self.check(parameters, context)

    def check(self, parameters: dict[str, Any], context: QgsProcessingContext) -> tuple[bool, str]:
        """Check every parameter as QGIS does, but open raster files with GDAL instead of loading layers.

        QGIS's own check loads each raster input as a layer, which computes a histogram and
        leaves an ``.aux.xml`` beside the user's file; an input that is not a raster is also
        named here instead of a vague 'not found'.
        """
        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if isinstance(definition, QgsProcessingParameterRasterLayer) and isinstance(value, str):
                if is_product_path(value):
                    problem = _product_problem(value)
                    if problem == "":
                        continue
                    if problem:
                        return False, f"{definition.description()}: {problem}"
                if _subdataset(value):
                    continue
                if os.path.isfile(value):
                    try:
                        open_raster(value)
                    except NotARasterError:
                        return False, f"{definition.description()}: '{value}' is not a raster file GDAL can read."
                    continue
            if not definition.checkValueIsAcceptable(value, context):
                return False, f"Incorrect parameter value for {definition.name()} ({definition.description()})."
        return True, ""
