"""Processing algorithm: add or edit ChangeLens metadata on an existing ONNX model file."""

from __future__ import annotations

import json
import os
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..core.models.edit import edit_metadata, read_document
from ..core.models.meta import LAYOUTS, TASKS
from .base import ChangeLensAlgorithm, Params, run_core
from .compat import NUMBER_DOUBLE, NUMBER_INTEGER

KEEP = "(keep)"


class EditModelMetadataAlgorithm(ChangeLensAlgorithm):
    """Writes a validated copy of a model with the metadata ChangeLens needs to run it."""

    ALGORITHM_NAME = "editmodelmetadata"
    DISPLAY_NAME = "Edit ONNX model metadata"
    GROUP_ID = "models"

    MODEL = "MODEL"
    METADATA_JSON = "METADATA_JSON"
    NAME = "NAME"
    TASK = "TASK"
    LAYOUT = "LAYOUT"
    BANDS = "BANDS"
    CLASSES = "CLASSES"
    TILE_SIZE = "TILE_SIZE"
    TILE_OVERLAP = "TILE_OVERLAP"
    PIXEL_SIZE = "PIXEL_SIZE"
    OUTPUT = "OUTPUT"
    SUMMARY = "SUMMARY"

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Adds or changes the metadata that 'Run ONNX model' reads (bands, preprocessing, layout, tiles, "
            "classes), so a model exported from open-cd, torchgeo or any PyTorch code runs without other "
            "settings. The model itself is not changed; a copy is written to the output file.<br><br>"
            "<b>Metadata (JSON)</b> takes any keys of the schema in models/README.md, e.g. "
            '<code>{"preprocessing": {"*": {"scale": 0.0001}}, "output": {"kind": "logits"}}</code>; the '
            "fields below override it. Comma-separated bands (<code>B04,B03,B02</code> or <code>1,2,3</code>) "
            "and class names (the first is the background). The result is validated, and checked against the "
            "model's inputs and outputs, before it is written."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        self.addParameter(QgsProcessingParameterFile(self.MODEL, "Model file (.onnx)", extension="onnx"))
        self.addParameter(
            QgsProcessingParameterString(self.METADATA_JSON, "Metadata (JSON)", "", multiLine=True, optional=True)
        )
        self.addParameter(QgsProcessingParameterString(self.NAME, "Name", optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.TASK, "Task", [KEEP, *TASKS], defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.LAYOUT, "Input layout", [KEEP, *LAYOUTS], defaultValue=0))
        self.addParameter(QgsProcessingParameterString(self.BANDS, "Bands of each image, in order", optional=True))
        self.addParameter(QgsProcessingParameterString(self.CLASSES, "Class names, in output order", optional=True))
        for name, label, kind in (
            (self.TILE_SIZE, "Tile size (px)", NUMBER_INTEGER),
            (self.TILE_OVERLAP, "Tile overlap (px)", NUMBER_INTEGER),
            (self.PIXEL_SIZE, "Training pixel size (m)", NUMBER_DOUBLE),
        ):
            self.addParameter(QgsProcessingParameterNumber(name, label, kind, None, optional=True, minValue=0))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, "Model with metadata", "ONNX (*.onnx)"))
        self.addOutput(QgsProcessingOutputString(self.SUMMARY, "Summary"))

    def _updates(self, parameters: dict[str, Any], context: QgsProcessingContext) -> dict[str, Any]:
        text = self.parameterAsString(parameters, self.METADATA_JSON, context).strip()
        try:
            updates: dict[str, Any] = json.loads(text) if text else {}
        except ValueError as exc:
            raise QgsProcessingException(f"The metadata JSON is not valid JSON ({exc}).") from exc
        if not isinstance(updates, dict):
            raise QgsProcessingException("The metadata JSON must be an object of key: value pairs.")
        name = self.parameterAsString(parameters, self.NAME, context).strip()
        if name:
            updates["name"] = name
        for param, options, key in ((self.TASK, TASKS, "task"), (self.LAYOUT, LAYOUTS, "layout")):
            choice = self.parameterAsEnum(parameters, param, context)
            if choice > 0:
                updates[key] = options[choice - 1]
        bands = [b.strip() for b in self.parameterAsString(parameters, self.BANDS, context).split(",") if b.strip()]
        if bands:
            updates["bands"] = [int(b) if b.isdigit() else b for b in bands]
        classes = [c.strip() for c in self.parameterAsString(parameters, self.CLASSES, context).split(",") if c.strip()]
        if classes:
            updates["classes"] = [{"name": c} for c in classes]
        for param, key in (
            (self.TILE_SIZE, "tile_size_px"),
            (self.TILE_OVERLAP, "tile_overlap_px"),
            (self.PIXEL_SIZE, "pixel_size_m"),
        ):
            if parameters.get(param) not in (None, ""):
                value = self.parameterAsDouble(parameters, param, context)
                updates[key] = value if key == "pixel_size_m" else int(value)
        return updates

    def process(self, parameters: Params, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Params:
        model = self.parameterAsFile(parameters, self.MODEL, context)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        if not os.path.isfile(model):
            raise QgsProcessingException(f"The model file '{model}' does not exist.")
        updates = self._updates(parameters, context)
        meta = run_core(lambda: edit_metadata(model, updates, out_path=output))
        feedback.pushInfo(json.dumps(run_core(lambda: read_document(output)), indent=2))
        feedback.pushInfo(meta.summary())
        return {self.OUTPUT: output, self.SUMMARY: meta.summary()}
