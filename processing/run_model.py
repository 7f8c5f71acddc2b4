"""Processing algorithm: run an ONNX segmentation or change model (a file or a bundled one) on one or two rasters."""

from __future__ import annotations

import glob
import math
import os
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..core.io.bandfiles import PRODUCT_HELP
from ..core.io.grid import RESAMPLING
from ..core.io.masks import CLOUD_MASKS, MASK_HELP
from ..core.io.radiometry import DATE_RADIOMETRY_CHOICES, RADIOMETRY_CHOICES
from ..core.models.inference import InferenceConfig, InferenceOutputs, run_model
from ..core.models.runtime import DEVICES, available_devices, device_label, import_onnxruntime
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapOutputs, MapResult, make_map_outputs
from ..core.progress import sub_progress
from .base import (
    PLUGIN_DIR,
    ChangeLensAlgorithm,
    Params,
    advanced,
    feedback_log,
    feedback_progress,
    optional_output,
    raster_path,
    run_core,
    style_outputs,
)
from .compat import NUMBER_DOUBLE, NUMBER_INTEGER
from .method_algorithm import log_areas
from .outputs import add_map_outputs, finish_map_outputs, log_written, map_outputs_help, plan_map_outputs

MODELS_DIR = os.path.join(PLUGIN_DIR, "models")
USE_FILE = "(use the model file above)"


def bundled_models() -> list[str]:
    """File names of the models shipped in ``models/``."""
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(MODELS_DIR, "*.onnx")))


class RunModelAlgorithm(ChangeLensAlgorithm):
    """Tiled, streamed onnxruntime inference driven by the model's own metadata."""

    ALGORITHM_NAME = "runmodel"
    DISPLAY_NAME = "Run ONNX model"
    GROUP_ID = "models"
    PARAMETER_HELP = {"CLOUD_MASK": MASK_HELP, "IMAGE": PRODUCT_HELP.strip(), "AFTER": PRODUCT_HELP.strip()}

    MODEL_FILE = "MODEL_FILE"
    BUNDLED_MODEL = "BUNDLED_MODEL"
    IMAGE = "IMAGE"
    AFTER = "AFTER"
    DEM = "DEM"
    BANDS = "BANDS"
    DEVICE = "DEVICE"
    THREADS = "THREADS"
    TILE_SIZE = "TILE_SIZE"
    TILE_OVERLAP = "TILE_OVERLAP"
    THRESHOLD = "THRESHOLD"
    BATCH_SIZE = "BATCH_SIZE"
    RESAMPLE_TO_MODEL = "RESAMPLE_TO_MODEL"
    RESAMPLING = "RESAMPLING"
    RADIOMETRY = "RADIOMETRY"
    IMAGE_RADIOMETRY = "IMAGE_RADIOMETRY"
    AFTER_RADIOMETRY = "AFTER_RADIOMETRY"
    PIXEL_ALIGNED = "PIXEL_ALIGNED"
    CLOUD_MASK = "CLOUD_MASK"
    OUTPUT_CLASSES = "OUTPUT_CLASSES"
    OUTPUT_PROBABILITY = "OUTPUT_PROBABILITY"
    VALID_AREA_HA = "VALID_AREA_HA"

    def __init__(self) -> None:
        super().__init__()
        self.bundled = bundled_models()

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Runs a segmentation or change-detection ONNX model over rasters of any size, tile by tile, with "
            "onnxruntime on the CPU or a GPU.<br><br>"
            "Everything else comes from the model's metadata (see models/README.md): which bands it needs (found "
            "by band description, e.g. B04, B08, VV), how to scale them, the tile size and overlap, the classes and "
            "colours. Two-date models take the before image and the after image; the after image is resampled "
            "onto the before image's grid. Overlapping tiles are blended (Hann window) before the class is chosen, "
            "so no seams appear; tiles with no data are skipped.<br><br>"
            "<b>DEM</b>: models whose metadata lists terrain channels (e.g. the landslide model) also take slope "
            "in degrees, computed from this DEM (elevation in metres, any CRS) on its own grid and resampled onto "
            "the image grid; other models ignore it.<br><br>"
            "Models exported for the Deepness plugin also run. Add metadata to any other export (open-cd, "
            "torchgeo, ...) with 'Edit ONNX model metadata'.<br><br>"
            "<b>Device</b>: a device the installed onnxruntime does not offer, or a GPU that does not start, is an "
            "error, never a silent fallback to the CPU. The log names the providers actually used. "
            f"This installation offers: {', '.join(device_label(d) for d in available_devices())}."
            + map_outputs_help("probability")
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL_FILE, "Model file (.onnx)", extension="onnx", optional=True, defaultValue=None
            )
        )
        self.addParameter(
            # By name, not position: the list depends on the models installed, and models store the value.
            QgsProcessingParameterEnum(
                self.BUNDLED_MODEL,
                "Or a bundled model",
                [USE_FILE, *self.bundled],
                defaultValue=USE_FILE,
                usesStaticStrings=True,
            )
        )
        self.addParameter(QgsProcessingParameterRasterLayer(self.IMAGE, "Image (the before image for change models)"))
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.AFTER, "After image (two-date models only)", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.DEM, "DEM, elevation in metres (models with terrain channels only)", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.BANDS,
                "Band numbers in the model's order, e.g. 4,3,2 (empty = find them by band description)",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.DEVICE, "Device", [label for _key, label, _provider in DEVICES], defaultValue=0
            )
        )
        advanced_params = [
            QgsProcessingParameterNumber(self.THREADS, "CPU threads (0 = all cores)", NUMBER_INTEGER, 0, minValue=0),
            QgsProcessingParameterNumber(
                self.TILE_SIZE,
                "Tile size in pixels (empty = from the model)",
                NUMBER_INTEGER,
                None,
                optional=True,
                minValue=8,
            ),
            QgsProcessingParameterNumber(
                self.TILE_OVERLAP,
                "Tile overlap in pixels (empty = from the model)",
                NUMBER_INTEGER,
                None,
                optional=True,
                minValue=0,
            ),
            QgsProcessingParameterNumber(
                self.THRESHOLD,
                "Probability threshold, two-class models (empty = from the model)",
                NUMBER_DOUBLE,
                None,
                optional=True,
                minValue=0.0,
                maxValue=1.0,
            ),
            QgsProcessingParameterNumber(self.BATCH_SIZE, "Tiles per batch", NUMBER_INTEGER, 4, minValue=1),
            QgsProcessingParameterBoolean(
                self.RESAMPLE_TO_MODEL, "Resample the images to the model's pixel size", defaultValue=False
            ),
            QgsProcessingParameterEnum(
                self.RESAMPLING,
                "Resampling (after image onto the before grid, and to the model's pixel size)",
                list(RESAMPLING),
                defaultValue=RESAMPLING.index("bilinear"),
            ),
            QgsProcessingParameterEnum(
                self.RADIOMETRY,
                "Reflectance conversion (models that take reflectance)",
                [label for _key, label in RADIOMETRY_CHOICES],
                defaultValue=0,
            ),
            *(
                QgsProcessingParameterEnum(
                    name,
                    f"{title}: reflectance conversion",
                    [label for _k, label in DATE_RADIOMETRY_CHOICES],
                    defaultValue=0,
                )
                for name, title in ((self.IMAGE_RADIOMETRY, "Image"), (self.AFTER_RADIOMETRY, "After image"))
            ),
            QgsProcessingParameterBoolean(
                self.PIXEL_ALIGNED,
                "The images are pixel-aligned without georeferencing (areas unknown)",
                defaultValue=False,
            ),
        ]
        advanced(self, advanced_params)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_CLASSES, "Classes"))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_PROBABILITY, "Probability", optional=True, createByDefault=False
            )
        )
        add_map_outputs(self, "probability", min_area_px=0)
        self.addOutput(QgsProcessingOutputNumber(self.VALID_AREA_HA, "Area with data (ha)"))
        self.addParameter(  # appended: saved models and scripts keep their parameter order
            QgsProcessingParameterEnum(
                self.CLOUD_MASK, "Cloud mask", [label for _key, label in CLOUD_MASKS], defaultValue=0
            )
        )

    def _model_path(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str:
        choice = self.parameterAsEnumString(parameters, self.BUNDLED_MODEL, context)
        if choice and choice != USE_FILE:
            return os.path.join(MODELS_DIR, choice)
        path = self.parameterAsFile(parameters, self.MODEL_FILE, context)
        if not path:
            raise QgsProcessingException("Choose a model: an .onnx file or one of the bundled models.")
        return path

    def _optional_number(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext) -> Any:
        if parameters.get(name) in (None, ""):
            return None
        if name == self.THRESHOLD:
            return self.parameterAsDouble(parameters, name, context)
        return self.parameterAsInt(parameters, name, context)

    def _band_numbers(self, parameters: dict[str, Any], context: QgsProcessingContext) -> tuple[int, ...] | None:
        text = self.parameterAsString(parameters, self.BANDS, context).strip()
        if not text:
            return None
        try:
            return tuple(int(v) for v in text.replace(";", ",").split(",") if v.strip())
        except ValueError as exc:
            raise QgsProcessingException(
                f"Band numbers '{text}' are not valid: give numbers separated by commas."
            ) from exc

    def _config(self, parameters: dict[str, Any], context: QgsProcessingContext) -> InferenceConfig:
        bands = self._band_numbers(parameters, context)
        return run_core(
            lambda: InferenceConfig(
                device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)][0],
                threads=self.parameterAsInt(parameters, self.THREADS, context),
                tile_size_px=self._optional_number(parameters, self.TILE_SIZE, context),
                tile_overlap_px=self._optional_number(parameters, self.TILE_OVERLAP, context),
                threshold=self._optional_number(parameters, self.THRESHOLD, context),
                batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
                resample_to_model=self.parameterAsBool(parameters, self.RESAMPLE_TO_MODEL, context),
                resampling=RESAMPLING[self.parameterAsEnum(parameters, self.RESAMPLING, context)],
                band_numbers=bands,
                radiometry=RADIOMETRY_CHOICES[self.parameterAsEnum(parameters, self.RADIOMETRY, context)][0],
                pixel_aligned=self.parameterAsBool(parameters, self.PIXEL_ALIGNED, context),
                cloud_mask=CLOUD_MASKS[self.parameterAsEnum(parameters, self.CLOUD_MASK, context)][0],
                date_radiometry=tuple(
                    DATE_RADIOMETRY_CHOICES[self.parameterAsEnum(parameters, name, context)][0]
                    for name in (self.IMAGE_RADIOMETRY, self.AFTER_RADIOMETRY)
                ),
            )
        )

    def process(self, parameters: Params, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Params:
        run_core(import_onnxruntime)
        model = self._model_path(parameters, context)
        config = self._config(parameters, context)
        images = [raster_path(self, parameters, self.IMAGE, context, "image")]
        if parameters.get(self.AFTER) not in (None, ""):
            images.append(raster_path(self, parameters, self.AFTER, context, "after image"))
        dem = None
        if parameters.get(self.DEM) not in (None, ""):
            dem = raster_path(self, parameters, self.DEM, context, "DEM")
        outputs = InferenceOutputs(
            classes=self.parameterAsOutputLayer(parameters, self.OUTPUT_CLASSES, context),
            probability=optional_output(self, parameters, self.OUTPUT_PROBABILITY, context),
        )
        log = feedback_log(feedback)
        with Transaction() as transaction:
            plan = plan_map_outputs(self, parameters, context, transaction)
            product = run_core(
                lambda: run_model(
                    model,
                    images,
                    outputs,
                    config,
                    sub_progress(feedback_progress(feedback), 0.0, 0.8 if plan.wanted else 1.0),
                    log,
                    dem,
                    transaction,
                )
            )
            log(f"Model run in {product.seconds:.1f} s.")
            result = run_core(
                lambda: (
                    make_map_outputs(
                        product,
                        MapOutputs(plan.polygons, plan.table),
                        plan.config,
                        sub_progress(feedback_progress(feedback, ((0.0, "Polygons and area statistics"),)), 0.8, 1.0),
                        log,
                        transaction,
                    )
                    if plan.wanted
                    else MapResult(product.stats, polygonised_classes=())
                )
            )
            entries = run_core(lambda: finish_map_outputs(plan, context, feedback, product, result, transaction))
            run_core(transaction.commit)
        log_written(feedback, entries)
        log_areas(feedback, product)
        style_outputs(
            context,
            {
                self.OUTPUT_CLASSES: (outputs.classes, product.title),
                self.OUTPUT_PROBABILITY: (outputs.probability, product.measure_name.capitalize()),
            },
        )
        return {
            **entries,
            self.OUTPUT_CLASSES: outputs.classes,
            self.OUTPUT_PROBABILITY: outputs.probability,
            self.VALID_AREA_HA: _known(sum(product.stats.area_m2.values()) / 1e4),
        }


def _known(area_ha: float) -> float | None:
    """An area, or None when the images have no georeferencing (unknown pixel size)."""
    return area_ha if math.isfinite(area_ha) else None
