"""Processing algorithm: new landslides from before/after optical images and a DEM."""

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

from ..core.io.grid import RESAMPLING
from ..core.io.sensors import RADIOMETRY_CHOICES
from ..core.methods.landslide import LandslideConfig, LandslideOutputs, run_landslide
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
from .common import advanced, choice, report_product
from .outputs import add_map_outputs, check_map_outputs, map_outputs_help, write_map_outputs


class LandslideAlgorithm(ChangeLensAlgorithm):
    """NDVI drop with brightening on steep slopes, with a minimum mapping unit."""

    ALGORITHM_NAME = "landslide"
    DISPLAY_NAME = "New landslides (NDVI drop on slopes)"
    GROUP_ID = "landslide"

    BEFORE = "BEFORE"
    AFTER = "AFTER"
    DEM = "DEM"
    NDVI_DROP = "NDVI_DROP"
    BRIGHTNESS_INCREASE = "BRIGHTNESS_INCREASE"
    MIN_SLOPE = "MIN_SLOPE"
    MIN_AREA = "MIN_AREA"
    RADIOMETRY = "RADIOMETRY"
    SCALE = "SCALE"
    OFFSET = "OFFSET"
    RESAMPLING = "RESAMPLING"
    OUTPUT = "OUTPUT"
    OUTPUT_NDVI_DROP = "OUTPUT_NDVI_DROP"
    LANDSLIDE_AREA_HA = "LANDSLIDE_AREA_HA"
    PARAMETER_HELP = {
        "BEFORE": "Optical image before the event with red and NIR bands; its grid is the output grid.",
        "AFTER": "Optical image after the event, any grid overlapping the before image.",
        "DEM": "Elevation in metres, any CRS; the slope is computed on the DEM's own grid.",
        "NDVI_DROP": "NDVI before minus NDVI after must reach this.",
        "MIN_SLOPE": "Only slopes at least this steep can hold a new landslide.",
        "BRIGHTNESS_INCREASE": "Bare ground is brighter: the mean of red and green reflectance must rise by this.",
        "OUTPUT": "Classes 1 = no landslide, 2 = new landslide (0 = no data).",
        "OUTPUT_NDVI_DROP": "NDVI before minus NDVI after.",
    }
    BAND_PARAMS = (
        ("BEFORE_RED_BAND", "Before red band (empty: detect)", "BEFORE"),
        ("BEFORE_NIR_BAND", "Before NIR band (empty: detect)", "BEFORE"),
        ("BEFORE_GREEN_BAND", "Before green band (empty: detect)", "BEFORE"),
        ("AFTER_RED_BAND", "After red band (empty: detect)", "AFTER"),
        ("AFTER_NIR_BAND", "After NIR band (empty: detect)", "AFTER"),
        ("AFTER_GREEN_BAND", "After green band (empty: detect)", "AFTER"),
    )

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Maps new landslides from a before and an after optical image (Sentinel-2, Landsat 8/9 or any image "
            "with green, red and NIR bands) and a DEM.<br><br>"
            "A pixel is a new landslide when NDVI drops by at least the given amount (default 0.2), the visible "
            "brightness (mean of red and green reflectance) rises by at least the given amount, and the slope "
            "is at least the minimum (default 10 degrees). The slope is computed on the DEM's own grid and CRS "
            "and resampled onto the image grid. Patches smaller than the minimum area are removed "
            "(8-connected).<br>"
            "Harvested fields and cloud shadows can look alike: the slope condition removes most of them."
            + map_outputs_help("NDVI drop")
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        num = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, "Before image"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, "After image"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "DEM (elevation in metres)"))
        self.addParameter(num(self.NDVI_DROP, "Minimum NDVI drop", num.Double, 0.2, minValue=0.01, maxValue=2.0))
        self.addParameter(num(self.MIN_SLOPE, "Minimum slope (degrees)", num.Double, 10.0, minValue=0.0, maxValue=89))
        self.addParameter(num(self.MIN_AREA, "Minimum landslide area (m2)", num.Double, 500.0, minValue=0.0))
        advanced(
            self,
            [
                num(
                    self.BRIGHTNESS_INCREASE,
                    "Minimum visible brightness increase (reflectance)",
                    num.Double,
                    0.02,
                    minValue=-1.0,
                    maxValue=1.0,
                ),
                *[
                    QgsProcessingParameterBand(n, label, None, parent, optional=True)
                    for n, label, parent in self.BAND_PARAMS
                ],
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
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "New landslides"))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_NDVI_DROP, "NDVI drop", optional=True))
        add_map_outputs(self, "NDVI drop")
        self.addOutput(QgsProcessingOutputNumber(self.LANDSLIDE_AREA_HA, "New landslide area (ha)"))

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,  # noqa: N802
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        p, c = parameters, context
        band = {name.lower(): optional_band(self, p, name, c) for name, _l, _p in self.BAND_PARAMS}
        config = run_core(
            lambda: LandslideConfig(
                **band,
                ndvi_drop=self.parameterAsDouble(p, self.NDVI_DROP, c),
                brightness_increase=self.parameterAsDouble(p, self.BRIGHTNESS_INCREASE, c),
                min_slope_deg=self.parameterAsDouble(p, self.MIN_SLOPE, c),
                min_area_m2=self.parameterAsDouble(p, self.MIN_AREA, c),
                radiometry=choice(self, p, self.RADIOMETRY, c, RADIOMETRY_CHOICES),
                custom_scale=self.parameterAsDouble(p, self.SCALE, c),
                custom_offset=self.parameterAsDouble(p, self.OFFSET, c),
                resampling=RESAMPLING[self.parameterAsEnum(p, self.RESAMPLING, c)],
            )
        )
        before = raster_path(self, p, self.BEFORE, c, "before image")
        after = raster_path(self, p, self.AFTER, c, "after image")
        dem = raster_path(self, p, self.DEM, c, "DEM")
        outputs = LandslideOutputs(
            classes=optional_output(self, p, self.OUTPUT, c),
            ndvi_drop=optional_output(self, p, self.OUTPUT_NDVI_DROP, c),
        )
        check_map_outputs(self, p, c)
        product = run_core(
            lambda: run_landslide(
                before, after, dem, outputs, config, feedback_progress(feedback), feedback_log(feedback)
            )
        )
        entries = write_map_outputs(self, p, c, feedback, product)
        areas = report_product(feedback, product)
        style_outputs(
            c,
            {self.OUTPUT: (outputs.classes, "New landslides"), self.OUTPUT_NDVI_DROP: (outputs.ndvi_drop, "NDVI drop")},
        )
        return {
            **entries,
            self.OUTPUT: outputs.classes,
            self.OUTPUT_NDVI_DROP: outputs.ndvi_drop,
            self.LANDSLIDE_AREA_HA: areas.get("New landslide", 0.0),
        }
