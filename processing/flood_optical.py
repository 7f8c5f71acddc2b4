"""Processing algorithm: flood extent from optical images (NDWI / MNDWI)."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.engine.threshold import THRESHOLD_METHODS
from ..core.io.grid import RESAMPLING
from ..core.io.sensors import RADIOMETRY_CHOICES
from ..core.methods.flood_optical import (
    CLOUD_MASKS,
    WATER_INDICES,
    OpticalFloodConfig,
    OpticalFloodOutputs,
    run_optical_flood,
)
from .base import (
    ChangeLensAlgorithm,
    feedback_log,
    feedback_progress,
    optional_band,
    optional_output,
    raster_path,
    run_core,
    style_outputs,
)
from .common import advanced, choice, optional_raster, report_product
from .outputs import add_map_outputs, check_map_outputs, map_outputs_help, write_map_outputs


class OpticalFloodAlgorithm(ChangeLensAlgorithm):
    """New and permanent water from NDWI or MNDWI on Sentinel-2 / Landsat images."""

    ALGORITHM_NAME = "opticalflood"
    DISPLAY_NAME = "Flood extent from optical images (NDWI / MNDWI)"
    GROUP_ID = "flood"

    BEFORE = "BEFORE"
    AFTER = "AFTER"
    INDEX = "INDEX"
    THRESHOLD_METHOD = "THRESHOLD_METHOD"
    THRESHOLD_VALUE = "THRESHOLD_VALUE"
    CLOUD_MASK = "CLOUD_MASK"
    BEFORE_GREEN_BAND = "BEFORE_GREEN_BAND"
    BEFORE_OTHER_BAND = "BEFORE_OTHER_BAND"
    BEFORE_SCL_BAND = "BEFORE_SCL_BAND"
    AFTER_GREEN_BAND = "AFTER_GREEN_BAND"
    AFTER_OTHER_BAND = "AFTER_OTHER_BAND"
    AFTER_SCL_BAND = "AFTER_SCL_BAND"
    RADIOMETRY = "RADIOMETRY"
    SCALE = "SCALE"
    OFFSET = "OFFSET"
    RESAMPLING = "RESAMPLING"
    OUTPUT = "OUTPUT"
    OUTPUT_INDEX = "OUTPUT_INDEX"
    FLOODED_AREA_HA = "FLOODED_AREA_HA"
    THRESHOLD = "THRESHOLD"
    PARAMETER_HELP = {
        "BEFORE": "Optical image before the flood (Sentinel-2, Landsat 8/9 ...); its grid is the output grid. "
        "Without it, all water after the event counts as flooded.",
        "AFTER": "Optical image after the flood, any grid overlapping the before image.",
        "INDEX": "Water index: MNDWI uses green and SWIR1, NDWI green and NIR.",
        "THRESHOLD_METHOD": "How the water threshold on the index is found (on a sample of the whole image).",
        "CLOUD_MASK": "Sentinel-2 SCL classes cloud, shadow, cirrus and snow become no data.",
        "THRESHOLD_VALUE": "Used only with the user threshold: index values above this are water.",
        "OUTPUT": "Classes 1 = not flooded, 2 = flooded, 3 = permanent water (0 = no data).",
        "OUTPUT_INDEX": "The water index of the after image.",
    }

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Maps water before and after a flood from Sentinel-2 or Landsat 8/9 images (the before image is "
            "optional).<br><br>"
            "MNDWI = (green - SWIR1) / (green + SWIR1) (Xu), the default when a SWIR1 band exists; NDWI = "
            "(green - NIR) / (green + NIR) (McFeeters). Water = index above the threshold: Otsu or "
            "Kittler-Illingworth on a sample of the whole raster (both dates), or your value (textbook 0).<br>"
            "Classes: flooded (water after, not before), permanent water (both dates), not flooded. Without a "
            "before image all water is reported as flooded.<br>"
            "<b>Clouds</b>: when an image has a Sentinel-2 SCL band (or you pick one), cloud, cloud shadow, "
            "cirrus, snow and defective pixels become no data.<br>"
            "Bands are found from band descriptions (B3/B11/B8, SR_B3/SR_B6/SR_B5); the band you pick wins. "
            "For MNDWI, 'other band' is SWIR1; for NDWI it is NIR." + map_outputs_help("water index")
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, "Before image (optional)", optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, "After image"))
        self.addParameter(
            QgsProcessingParameterEnum(
                self.INDEX, "Water index", [label for _k, label in WATER_INDICES], defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.THRESHOLD_METHOD, "Threshold", [label for _k, label in THRESHOLD_METHODS], defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.CLOUD_MASK, "Cloud mask", [label for _k, label in CLOUD_MASKS], defaultValue=0
            )
        )
        num = QgsProcessingParameterNumber
        bands = [
            QgsProcessingParameterBand(name, label, None, parent, optional=True)
            for name, label, parent in (
                (self.BEFORE_GREEN_BAND, "Before green band (empty: detect)", self.BEFORE),
                (self.BEFORE_OTHER_BAND, "Before SWIR1 (MNDWI) or NIR (NDWI) band (empty: detect)", self.BEFORE),
                (self.BEFORE_SCL_BAND, "Before SCL band (empty: detect)", self.BEFORE),
                (self.AFTER_GREEN_BAND, "After green band (empty: detect)", self.AFTER),
                (self.AFTER_OTHER_BAND, "After SWIR1 (MNDWI) or NIR (NDWI) band (empty: detect)", self.AFTER),
                (self.AFTER_SCL_BAND, "After SCL band (empty: detect)", self.AFTER),
            )
        ]
        advanced(
            self,
            [
                num(
                    self.THRESHOLD_VALUE, "User threshold on the water index", num.Double, 0.0, minValue=-1, maxValue=1
                ),
                *bands,
                QgsProcessingParameterEnum(
                    self.RADIOMETRY,
                    "Reflectance conversion",
                    [label for _k, label in RADIOMETRY_CHOICES],
                    defaultValue=0,
                ),
                num(self.SCALE, "Custom scale (reflectance = value x scale + offset)", num.Double, 1.0),
                num(self.OFFSET, "Custom offset", num.Double, 0.0),
                QgsProcessingParameterEnum(
                    self.RESAMPLING,
                    "Resampling of the after image onto the before grid",
                    list(RESAMPLING),
                    defaultValue=RESAMPLING.index("bilinear"),
                ),
            ],
        )
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Flood extent"))
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT_INDEX, "Water index after", optional=True)
        )
        add_map_outputs(self, "water index")
        self.addOutput(QgsProcessingOutputNumber(self.FLOODED_AREA_HA, "Flooded area (ha)"))
        self.addOutput(QgsProcessingOutputNumber(self.THRESHOLD, "Threshold used"))

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,  # noqa: N802
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        p, c = parameters, context
        config = run_core(
            lambda: OpticalFloodConfig(
                index=choice(self, p, self.INDEX, c, WATER_INDICES),
                before_green_band=optional_band(self, p, self.BEFORE_GREEN_BAND, c),
                before_other_band=optional_band(self, p, self.BEFORE_OTHER_BAND, c),
                before_scl_band=optional_band(self, p, self.BEFORE_SCL_BAND, c),
                after_green_band=optional_band(self, p, self.AFTER_GREEN_BAND, c),
                after_other_band=optional_band(self, p, self.AFTER_OTHER_BAND, c),
                after_scl_band=optional_band(self, p, self.AFTER_SCL_BAND, c),
                cloud_mask=choice(self, p, self.CLOUD_MASK, c, CLOUD_MASKS),
                threshold_method=choice(self, p, self.THRESHOLD_METHOD, c, THRESHOLD_METHODS),
                user_threshold=self.parameterAsDouble(p, self.THRESHOLD_VALUE, c),
                radiometry=choice(self, p, self.RADIOMETRY, c, RADIOMETRY_CHOICES),
                custom_scale=self.parameterAsDouble(p, self.SCALE, c),
                custom_offset=self.parameterAsDouble(p, self.OFFSET, c),
                resampling=RESAMPLING[self.parameterAsEnum(p, self.RESAMPLING, c)],
            )
        )
        before = optional_raster(self, p, self.BEFORE, c, "before image")
        after = raster_path(self, p, self.AFTER, c, "after image")
        outputs = OpticalFloodOutputs(
            classes=optional_output(self, p, self.OUTPUT, c), index_after=optional_output(self, p, self.OUTPUT_INDEX, c)
        )
        check_map_outputs(self, p, c)
        product = run_core(
            lambda: run_optical_flood(
                before, after, outputs, config, feedback_progress(feedback), feedback_log(feedback)
            )
        )
        entries = write_map_outputs(self, p, c, feedback, product)
        areas = report_product(feedback, product)
        style_outputs(
            c, {self.OUTPUT: (outputs.classes, "Flood extent"), self.OUTPUT_INDEX: (outputs.index_after, "Water index")}
        )
        return {
            **entries,
            self.OUTPUT: outputs.classes,
            self.OUTPUT_INDEX: outputs.index_after,
            self.FLOODED_AREA_HA: areas.get("Flooded", 0.0),
            self.THRESHOLD: product.threshold,
        }
