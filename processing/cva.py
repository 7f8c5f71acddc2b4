"""Processing algorithm: change detection by change vector analysis."""

from __future__ import annotations

import os
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..core.cva import NORMALISATIONS, CvaConfig, CvaOutputs, run_cva
from ..core.grid import RESAMPLING
from ..core.threshold import THRESHOLD_METHODS
from .base import (
    ChangeLensAlgorithm,
    feedback_log,
    feedback_progress,
    optional_output,
    raster_path,
    run_core,
    style_outputs,
)
from .common import advanced, choice, report_product
from .outputs import add_map_outputs, check_map_outputs, map_outputs_help, write_map_outputs

DEFAULTS = CvaConfig()  # the algorithm offers the core defaults (Kittler-Illingworth, 3 x 3 median)
DEFAULT_THRESHOLD = [k for k, _l in THRESHOLD_METHODS].index(DEFAULTS.threshold_method)


class CvaAlgorithm(ChangeLensAlgorithm):
    """Change magnitude (and direction) from any number of bands of two dates."""

    ALGORITHM_NAME = "cva"
    DISPLAY_NAME = "Change detection (change vector analysis)"
    GROUP_ID = "change"

    DATE1 = "DATE1"
    DATE2 = "DATE2"
    BANDS = "BANDS"
    NORMALISATION = "NORMALISATION"
    RADIOMETRIC = "RADIOMETRIC"
    THRESHOLD_METHOD = "THRESHOLD_METHOD"
    THRESHOLD_VALUE = "THRESHOLD_VALUE"
    SMOOTH = "SMOOTH"
    RESAMPLING = "RESAMPLING"
    PIXEL_SIZE_DEFAULTS = "PIXEL_SIZE_DEFAULTS"
    OUTPUT = "OUTPUT"
    OUTPUT_MAGNITUDE = "OUTPUT_MAGNITUDE"
    OUTPUT_DIRECTION = "OUTPUT_DIRECTION"
    CHANGED_AREA_HA = "CHANGED_AREA_HA"
    THRESHOLD = "THRESHOLD"
    PARAMETER_HELP = {
        "DATE1": "First image (any number of bands); its grid is the output grid.",
        "DATE2": "Second image with the same bands, any grid overlapping the first.",
        "BANDS": "Comma-separated band names or numbers compared on both dates.",
        "THRESHOLD_METHOD": "How the threshold on the change magnitude is found (on a sample of the whole image).",
        "THRESHOLD_VALUE": "Used only with the user threshold: magnitudes above this are change.",
        "NORMALISATION": "How each band is scaled before the change vector is computed.",
        "RADIOMETRIC": "Matches date 2 to date 1 over pixels that change least (pseudo-invariant features).",
        "SMOOTH": "Focal median of the magnitude that removes isolated pixels.",
        "PIXEL_SIZE_DEFAULTS": "On very-high-resolution images (pixels of 5 m or finer, or no CRS) the threshold "
        "and smoothing left at their standard defaults (Kittler-Illingworth, 3 px) become Otsu and a 7 px median.",
        "OUTPUT": "Classes 1 = no change, 2 = change (0 = no data).",
        "OUTPUT_MAGNITUDE": "Length of the change vector, in the units of the (normalised) bands.",
        "OUTPUT_DIRECTION": "Angle of the change vector in degrees (two bands only).",
    }

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Maps change between two images of any sensor with the same bands.<br><br>"
            "Each band is normalised (by default with date 1's median and spread, the same scale for both "
            "dates; or each date with its own, which also removes overall brightness and contrast "
            "differences), the per-band differences form a change vector, and its "
            "length (magnitude) is thresholded: Kittler-Illingworth (default) or Otsu on a sample of the whole "
            "image, or your value (in standard deviations). With two bands the direction (degrees, 0 = band 1 "
            "increases) tells change types apart.<br>"
            "<b>Bands</b>: a comma-separated list of band names or numbers (e.g. B2,B3,B4,B8); empty = every "
            "band both images share by name (or all bands when unnamed).<br>"
            "<b>Radiometric normalisation</b> (optional): date 2 is first fitted to date 1 band by band "
            "(mean and spread matched over pseudo-invariant pixels, the 30 % with the least change).<br>"
            "<b>Smoothing</b>: a focal median of the magnitude (odd window, 1 = none) removes isolated pixels."
            + map_outputs_help("change magnitude")
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        num = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterRasterLayer(self.DATE1, "Date 1 image"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DATE2, "Date 2 image"))
        self.addParameter(
            QgsProcessingParameterString(
                self.BANDS, "Bands to compare (names or numbers; empty: all shared)", "", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.THRESHOLD_METHOD,
                "Threshold",
                [label for _k, label in THRESHOLD_METHODS],
                defaultValue=DEFAULT_THRESHOLD,
            )
        )
        advanced(
            self,
            [
                num(
                    self.THRESHOLD_VALUE,
                    "User threshold on the magnitude",
                    num.Double,
                    DEFAULTS.user_threshold,
                    minValue=0.0,
                ),
                QgsProcessingParameterEnum(
                    self.NORMALISATION,
                    "Per-band normalisation",
                    [label for _k, label in NORMALISATIONS],
                    defaultValue=[k for k, _l in NORMALISATIONS].index(DEFAULTS.normalisation),
                ),
                QgsProcessingParameterBoolean(
                    self.RADIOMETRIC, "Relative radiometric normalisation of date 2 (pseudo-invariant pixels)", False
                ),
                num(
                    self.SMOOTH,
                    "Median smoothing window of the magnitude (odd, 1 = none)",
                    num.Integer,
                    DEFAULTS.smooth_px,
                    minValue=1,
                    maxValue=15,
                ),
                QgsProcessingParameterBoolean(
                    self.PIXEL_SIZE_DEFAULTS, "Defaults by pixel size (VHR: Otsu, 7 px median)", True
                ),
                QgsProcessingParameterEnum(
                    self.RESAMPLING,
                    "Resampling of date 2 onto the date 1 grid",
                    list(RESAMPLING),
                    defaultValue=RESAMPLING.index("bilinear"),
                ),
            ],
        )
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Change"))
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT_MAGNITUDE, "Change magnitude", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_DIRECTION, "Change direction (2 bands only)", optional=True, createByDefault=False
            )
        )
        add_map_outputs(self, "change magnitude")
        self.addOutput(QgsProcessingOutputNumber(self.CHANGED_AREA_HA, "Changed area (ha)"))
        self.addOutput(QgsProcessingOutputNumber(self.THRESHOLD, "Threshold used"))

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,  # noqa: N802
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        p, c = parameters, context
        text = self.parameterAsString(p, self.BANDS, c) or ""
        config = run_core(
            lambda: CvaConfig(
                bands=tuple(b.strip() for b in text.replace(";", ",").split(",") if b.strip()),
                normalisation=choice(self, p, self.NORMALISATION, c, NORMALISATIONS),
                radiometric_normalisation=self.parameterAsBool(p, self.RADIOMETRIC, c),
                threshold_method=choice(self, p, self.THRESHOLD_METHOD, c, THRESHOLD_METHODS),
                user_threshold=self.parameterAsDouble(p, self.THRESHOLD_VALUE, c),
                smooth_px=self.parameterAsInt(p, self.SMOOTH, c),
                resampling=RESAMPLING[self.parameterAsEnum(p, self.RESAMPLING, c)],
                pixel_size_defaults=self.parameterAsBool(p, self.PIXEL_SIZE_DEFAULTS, c),
            )
        )
        date1 = raster_path(self, p, self.DATE1, c, "date 1 image")
        date2 = raster_path(self, p, self.DATE2, c, "date 2 image")
        outputs = CvaOutputs(
            classes=optional_output(self, p, self.OUTPUT, c),
            magnitude=optional_output(self, p, self.OUTPUT_MAGNITUDE, c),
            direction=optional_output(self, p, self.OUTPUT_DIRECTION, c),
        )
        check_map_outputs(self, p, c)
        product = run_core(
            lambda: run_cva(date1, date2, outputs, config, feedback_progress(feedback), feedback_log(feedback))
        )
        entries = write_map_outputs(self, p, c, feedback, product)
        areas = report_product(feedback, product)
        style_outputs(
            c,
            {
                self.OUTPUT: (outputs.classes, "Change"),
                self.OUTPUT_MAGNITUDE: (outputs.magnitude, "Change magnitude"),
                self.OUTPUT_DIRECTION: (outputs.direction, "Change direction"),
            },
        )
        return {
            **entries,
            self.OUTPUT: outputs.classes,
            self.OUTPUT_MAGNITUDE: outputs.magnitude,
            self.OUTPUT_DIRECTION: outputs.direction
            if outputs.direction and os.path.exists(outputs.direction)
            else None,
            self.CHANGED_AREA_HA: areas.get("Change", 0.0),
            self.THRESHOLD: product.threshold,
        }
