"""Processing algorithm: flood extent from Sentinel-1 (before/after or after only)."""

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
from ..core.io.sar import SAR_SCALES, SPECKLE_FILTERS
from ..core.methods.flood_sar import POLARISATIONS, SarFloodConfig, SarFloodOutputs, run_sar_flood
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


class SarFloodAlgorithm(ChangeLensAlgorithm):
    """Sentinel-1 flood mapping by log-ratio and dark-water thresholds."""

    ALGORITHM_NAME = "sarflood"
    DISPLAY_NAME = "Flood extent from Sentinel-1 (log-ratio)"
    GROUP_ID = "flood"

    BEFORE = "BEFORE"
    AFTER = "AFTER"
    DEM = "DEM"
    BEFORE_VV_BAND = "BEFORE_VV_BAND"
    BEFORE_VH_BAND = "BEFORE_VH_BAND"
    AFTER_VV_BAND = "AFTER_VV_BAND"
    AFTER_VH_BAND = "AFTER_VH_BAND"
    POLARISATION = "POLARISATION"
    SCALE = "SCALE"
    FILTER = "FILTER"
    WINDOW = "WINDOW"
    THRESHOLD_METHOD = "THRESHOLD_METHOD"
    CHANGE_THRESHOLD = "CHANGE_THRESHOLD"
    WATER_THRESHOLD = "WATER_THRESHOLD"
    MAX_SLOPE = "MAX_SLOPE"
    RESAMPLING = "RESAMPLING"
    OUTPUT = "OUTPUT"
    OUTPUT_MEASURE = "OUTPUT_MEASURE"
    FLOODED_AREA_HA = "FLOODED_AREA_HA"
    THRESHOLD = "THRESHOLD"
    PARAMETER_HELP = {
        "BEFORE": "Sentinel-1 GRD before the flood (VV and/or VH); its grid is the output grid. Without it, every "
        "dark-water pixel after the event counts as flooded.",
        "AFTER": "Sentinel-1 GRD after the flood (VV and/or VH), any grid overlapping the before image.",
        "DEM": "Elevation in metres, any CRS; slopes steeper than the maximum slope are never flooded.",
        "SCALE": "What the pixel values are; data declared as dB that is clearly not dB is refused.",
        "THRESHOLD_METHOD": "How the water and change thresholds are found (on a sample of the whole image).",
        "POLARISATION": "Bands used; with both, VV and VH are averaged in dB.",
        "FILTER": "Speckle filter applied to both dates before thresholding.",
        "WINDOW": "Speckle filter window in pixels (odd).",
        "CHANGE_THRESHOLD": "Used only with the user threshold: a log-ratio drop below this is change.",
        "WATER_THRESHOLD": "Used only with the user threshold: backscatter below this is water.",
        "MAX_SLOPE": "Used only with a DEM.",
        "OUTPUT": "Classes 1 = not flooded, 2 = flooded, 3 = permanent water (0 = no data).",
        "OUTPUT_MEASURE": "Log-ratio in dB (after - before), or the after backscatter without a before image.",
    }

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Maps flooded areas from Sentinel-1 GRD backscatter before and after the event (or from the after "
            "image alone).<br><br>"
            "<b>Scale</b>: dB, linear power or amplitude (converted to dB), or an uncalibrated 8-bit display image "
            "(values used as they are, thresholds in DN). Automatic detection reads 8-bit images as display images "
            "and mostly-negative values as dB; otherwise it asks you to choose. Data declared as dB that is "
            "clearly not dB is refused.<br>"
            "<b>Speckle</b>: refined Lee (edge-aligned half windows) or a focal median, window size in pixels.<br>"
            "<b>Method</b>: water = backscatter below a threshold (Otsu or Kittler-Illingworth on a sample of the "
            "whole image, or your value); change = log-ratio (after dB - before dB). Flooded = water after that "
            "was not water before, or a drop below the change threshold that is also fairly dark; permanent water "
            "= water on both dates. Without a before image every water pixel is reported as flooded.<br>"
            "<b>DEM</b> (optional): slopes steeper than the maximum (5 degrees by default), computed on the DEM's "
            "own grid, are never flooded.<br>"
            "VV and VH are found from band descriptions; both are averaged (in dB) when present. The log states "
            "the bands, scale, filter and thresholds, and the area of each class." + map_outputs_help("log-ratio")
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, "Before image (optional)", optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, "After image"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "DEM for the slope mask", optional=True))
        self.addParameter(
            QgsProcessingParameterEnum(self.SCALE, "Input scale", [label for _k, label in SAR_SCALES], defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.THRESHOLD_METHOD, "Threshold", [label for _k, label in THRESHOLD_METHODS], defaultValue=0
            )
        )
        bands = [
            QgsProcessingParameterBand(name, label, None, parent, optional=True)
            for name, label, parent in (
                (self.BEFORE_VV_BAND, "Before VV band (empty: detect)", self.BEFORE),
                (self.BEFORE_VH_BAND, "Before VH band (empty: detect)", self.BEFORE),
                (self.AFTER_VV_BAND, "After VV band (empty: detect)", self.AFTER),
                (self.AFTER_VH_BAND, "After VH band (empty: detect)", self.AFTER),
            )
        ]
        num = QgsProcessingParameterNumber
        advanced(
            self,
            [
                *bands,
                QgsProcessingParameterEnum(
                    self.POLARISATION, "Polarisation", [label for _k, label in POLARISATIONS], defaultValue=0
                ),
                QgsProcessingParameterEnum(
                    self.FILTER, "Speckle filter", [label for _k, label in SPECKLE_FILTERS], defaultValue=0
                ),
                num(self.WINDOW, "Filter window (odd number of pixels)", num.Integer, 7, minValue=1, maxValue=31),
                num(self.CHANGE_THRESHOLD, "User change threshold on the log-ratio (dB, or DN)", num.Double, -3.0),
                num(self.WATER_THRESHOLD, "User water threshold (dB, or DN)", num.Double, -18.0),
                num(self.MAX_SLOPE, "Maximum slope for flooding (degrees)", num.Double, 5.0, minValue=0.1, maxValue=90),
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
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_MEASURE, "Log-ratio (or after backscatter)", optional=True, createByDefault=True
            )
        )
        add_map_outputs(self, "log-ratio")
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
            lambda: SarFloodConfig(
                before_vv_band=optional_band(self, p, self.BEFORE_VV_BAND, c),
                before_vh_band=optional_band(self, p, self.BEFORE_VH_BAND, c),
                after_vv_band=optional_band(self, p, self.AFTER_VV_BAND, c),
                after_vh_band=optional_band(self, p, self.AFTER_VH_BAND, c),
                polarisation=choice(self, p, self.POLARISATION, c, POLARISATIONS),
                scale=choice(self, p, self.SCALE, c, SAR_SCALES),
                speckle_filter=choice(self, p, self.FILTER, c, SPECKLE_FILTERS),
                window_px=self.parameterAsInt(p, self.WINDOW, c),
                threshold_method=choice(self, p, self.THRESHOLD_METHOD, c, THRESHOLD_METHODS),
                change_threshold_db=self.parameterAsDouble(p, self.CHANGE_THRESHOLD, c),
                water_threshold_db=self.parameterAsDouble(p, self.WATER_THRESHOLD, c),
                max_slope_deg=self.parameterAsDouble(p, self.MAX_SLOPE, c),
                resampling=RESAMPLING[self.parameterAsEnum(p, self.RESAMPLING, c)],
            )
        )
        before = optional_raster(self, p, self.BEFORE, c, "before image")
        after = raster_path(self, p, self.AFTER, c, "after image")
        dem = optional_raster(self, p, self.DEM, c, "DEM")
        outputs = SarFloodOutputs(
            classes=optional_output(self, p, self.OUTPUT, c), measure=optional_output(self, p, self.OUTPUT_MEASURE, c)
        )
        check_map_outputs(self, p, c)
        product = run_core(
            lambda: run_sar_flood(
                before, after, outputs, dem, config, feedback_progress(feedback), feedback_log(feedback)
            )
        )
        entries = write_map_outputs(self, p, c, feedback, product)
        areas = report_product(feedback, product)
        style_outputs(
            c, {self.OUTPUT: (outputs.classes, "Flood extent"), self.OUTPUT_MEASURE: (outputs.measure, "SAR measure")}
        )
        return {
            **entries,
            self.OUTPUT: outputs.classes,
            self.OUTPUT_MEASURE: outputs.measure,
            self.FLOODED_AREA_HA: areas.get("Flooded", 0.0),
            self.THRESHOLD: product.threshold,
        }
