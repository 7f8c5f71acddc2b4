"""Processing algorithm: burn severity (dNBR, RdNBR, RBR and USGS classes)."""

from __future__ import annotations

import time
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..core.io.grid import RESAMPLING
from ..core.io.sensors import RADIOMETRY_CHOICES
from ..core.methods.burn import DEFAULT_BREAKS, SEVERITY, BurnSeverityConfig, BurnSeverityOutputs, run_burn_severity
from ..core.outputs.products import MapProduct
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
from .common import advanced
from .outputs import add_map_outputs, check_map_outputs, map_outputs_help, write_map_outputs


class BurnSeverityAlgorithm(ChangeLensAlgorithm):
    """dNBR from pre- and post-fire NIR/SWIR2, classified with the USGS severity breaks."""

    ALGORITHM_NAME = "burnseverity"
    DISPLAY_NAME = "Burn severity (dNBR)"
    GROUP_ID = "burned"

    PRE = "PRE"
    POST = "POST"
    PRE_NIR_BAND = "PRE_NIR_BAND"
    PRE_SWIR2_BAND = "PRE_SWIR2_BAND"
    POST_NIR_BAND = "POST_NIR_BAND"
    POST_SWIR2_BAND = "POST_SWIR2_BAND"
    RADIOMETRY = "RADIOMETRY"
    SCALE = "SCALE"
    OFFSET = "OFFSET"
    RESAMPLING = "RESAMPLING"
    BREAKS = "BREAKS"
    OUTPUT_DNBR = "OUTPUT_DNBR"
    OUTPUT_SEVERITY = "OUTPUT_SEVERITY"
    OUTPUT_RDNBR = "OUTPUT_RDNBR"
    OUTPUT_RBR = "OUTPUT_RBR"
    BURNED_AREA_HA = "BURNED_AREA_HA"
    VALID_AREA_HA = "VALID_AREA_HA"
    PARAMETER_HELP = {
        PRE: "Pre-fire image with NIR and SWIR2 bands; its grid (CRS, pixels) is the output grid.",
        POST: "Post-fire image with NIR and SWIR2 bands; any CRS, pixel size or extent overlapping the pre-fire one.",
        PRE_NIR_BAND: "NIR: Sentinel-2 B8A, else B8; Landsat SR_B5.",
        PRE_SWIR2_BAND: "SWIR2: Sentinel-2 B12; Landsat SR_B7.",
        POST_NIR_BAND: "NIR: Sentinel-2 B8A, else B8; Landsat SR_B5.",
        POST_SWIR2_BAND: "SWIR2: Sentinel-2 B12; Landsat SR_B7.",
        RADIOMETRY: "How pixel values become reflectance (0-1); the log states the conversion used.",
        SCALE: "Used only with the custom conversion: reflectance = value x scale + offset.",
        OFFSET: "Used only with the custom conversion (reflectance units).",
        RESAMPLING: "How the post-fire image is resampled onto the pre-fire grid.",
        BREAKS: "Six increasing dNBR values (unscaled) between the seven classes; the default is USGS / UN-SPIDER.",
        OUTPUT_DNBR: "dNBR as Float32, unscaled (NaN = no data), on the pre-fire grid.",
        OUTPUT_SEVERITY: "Severity classes 1-7 as Byte (0 = no data).",
        OUTPUT_RDNBR: "RdNBR = dNBR / sqrt(|NBR pre|), Float32.",
        OUTPUT_RBR: "RBR = dNBR / (NBR pre + 1.001), Float32.",
    }

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Maps burn severity from a pre-fire and a post-fire image (Sentinel-2, Landsat 8/9 or any "
            "image with NIR and SWIR2 bands).<br><br>"
            "NBR = (NIR - SWIR2) / (NIR + SWIR2); dNBR = NBR<sub>pre</sub> - NBR<sub>post</sub>. "
            "Optional outputs: RdNBR = dNBR / sqrt(|NBR<sub>pre</sub>|) and RBR = dNBR / (NBR<sub>pre</sub> + 1.001), "
            "all unscaled (multiply by 1000 for the values often quoted in the literature).<br><br>"
            "Severity classes (USGS / UN-SPIDER, Key &amp; Benson) on dNBR: enhanced regrowth high (&le; -0.251), "
            "enhanced regrowth low, unburned, low (&gt; 0.099), moderate-low (&gt; 0.269), moderate-high "
            "(&gt; 0.439) and high (&gt; 0.659).<br><br>"
            "<b>Bands</b>: left empty, the NIR band (Sentinel-2 B8A, else B8; Landsat SR_B5) and SWIR2 band "
            "(Sentinel-2 B12; Landsat SR_B7) are found from the band descriptions; a band you pick wins.<br>"
            "<b>Reflectance</b>: automatic uses the band's own scale/offset, the product metadata, or the "
            "value range; pick the Sentinel-2 baseline 04.00 option when your L2A file still holds the +1000 "
            "offset. The log states which bands and conversion were used.<br>"
            "The post-fire image is resampled onto the pre-fire grid (any CRS, pixel size or extent); the "
            "outputs cover the area both images share. No data in either date stays no data." + map_outputs_help("dNBR")
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        self.addParameter(QgsProcessingParameterRasterLayer(self.PRE, "Pre-fire image"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.POST, "Post-fire image"))
        for name, label, parent in (
            (self.PRE_NIR_BAND, "Pre-fire NIR band (empty: detect)", self.PRE),
            (self.PRE_SWIR2_BAND, "Pre-fire SWIR2 band (empty: detect)", self.PRE),
            (self.POST_NIR_BAND, "Post-fire NIR band (empty: detect)", self.POST),
            (self.POST_SWIR2_BAND, "Post-fire SWIR2 band (empty: detect)", self.POST),
        ):
            self.addParameter(QgsProcessingParameterBand(name, label, None, parent, optional=True))
        self.addParameter(
            QgsProcessingParameterEnum(
                self.RADIOMETRY, "Reflectance conversion", [label for _key, label in RADIOMETRY_CHOICES], defaultValue=0
            )
        )
        advanced_params = [
            QgsProcessingParameterNumber(
                self.SCALE,
                "Custom scale (reflectance = value x scale + offset)",
                QgsProcessingParameterNumber.Double,
                1.0,
            ),
            QgsProcessingParameterNumber(self.OFFSET, "Custom offset", QgsProcessingParameterNumber.Double, 0.0),
            QgsProcessingParameterEnum(
                self.RESAMPLING,
                "Resampling of the post-fire image onto the pre-fire grid",
                list(RESAMPLING),
                defaultValue=RESAMPLING.index("bilinear"),
            ),
            QgsProcessingParameterString(
                self.BREAKS,
                "Severity class breaks on dNBR (6 increasing values)",
                ",".join(f"{b:g}" for b in DEFAULT_BREAKS),
            ),
        ]
        advanced(self, advanced_params)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_DNBR, "dNBR"))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_SEVERITY, "Burn severity classes"))
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT_RDNBR, "RdNBR", optional=True, createByDefault=False)
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT_RBR, "RBR", optional=True, createByDefault=False)
        )
        add_map_outputs(self, "dNBR")
        self.addOutput(QgsProcessingOutputNumber(self.BURNED_AREA_HA, "Burned area, low severity or worse (ha)"))
        self.addOutput(QgsProcessingOutputNumber(self.VALID_AREA_HA, "Area with data on both dates (ha)"))

    def _config(self, parameters: dict[str, Any], context: QgsProcessingContext) -> BurnSeverityConfig:
        text = self.parameterAsString(parameters, self.BREAKS, context)
        try:
            breaks = tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
            return BurnSeverityConfig(
                pre_nir_band=optional_band(self, parameters, self.PRE_NIR_BAND, context),
                pre_swir2_band=optional_band(self, parameters, self.PRE_SWIR2_BAND, context),
                post_nir_band=optional_band(self, parameters, self.POST_NIR_BAND, context),
                post_swir2_band=optional_band(self, parameters, self.POST_SWIR2_BAND, context),
                radiometry=RADIOMETRY_CHOICES[self.parameterAsEnum(parameters, self.RADIOMETRY, context)][0],
                custom_scale=self.parameterAsDouble(parameters, self.SCALE, context),
                custom_offset=self.parameterAsDouble(parameters, self.OFFSET, context),
                resampling=RESAMPLING[self.parameterAsEnum(parameters, self.RESAMPLING, context)],
                breaks=breaks,
            )
        except ValueError as exc:
            raise QgsProcessingException(
                f"Severity breaks '{text}' are not valid: give 6 increasing numbers separated by commas."
            ) from exc

    @staticmethod
    def _report_parameters(config: BurnSeverityConfig) -> tuple[tuple[str, str], ...]:
        bands = (config.pre_nir_band, config.pre_swir2_band, config.post_nir_band, config.post_swir2_band)
        return (
            ("Bands (pre NIR, pre SWIR2, post NIR, post SWIR2)", ", ".join(str(b or "auto") for b in bands)),
            ("Reflectance conversion", config.radiometry),
            ("Resampling of the post-fire image", config.resampling),
            ("Severity breaks on dNBR", ", ".join(f"{b:g}" for b in config.breaks)),
            ("Burned threshold (dNBR)", f"> {config.breaks[2]:g}"),
        )

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,  # noqa: N802
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        config = self._config(parameters, context)
        check_map_outputs(self, parameters, context)
        pre = raster_path(self, parameters, self.PRE, context, "pre-fire image")
        post = raster_path(self, parameters, self.POST, context, "post-fire image")
        outputs = BurnSeverityOutputs(
            dnbr=optional_output(self, parameters, self.OUTPUT_DNBR, context),
            severity=optional_output(self, parameters, self.OUTPUT_SEVERITY, context),
            rdnbr=optional_output(self, parameters, self.OUTPUT_RDNBR, context),
            rbr=optional_output(self, parameters, self.OUTPUT_RBR, context),
        )
        result = run_core(
            lambda: run_burn_severity(pre, post, outputs, config, feedback_progress(feedback), feedback_log(feedback))
        )
        entries: dict[str, Any] = {}
        if outputs.severity:
            product = MapProduct(
                title="Burn severity (dNBR)",
                class_raster=outputs.severity,
                scheme=SEVERITY,
                stats=result.stats,
                measure_raster=outputs.dnbr,
                measure_name="dNBR",
                threshold=config.breaks[2],
                breaks=config.breaks,
                inputs=(("Pre-fire image", pre), ("Post-fire image", post)),
                parameters=self._report_parameters(config),
                seconds=time.perf_counter() - started,
            )
            entries = write_map_outputs(self, parameters, context, feedback, product)
        rows = result.stats.rows()
        for row in rows:
            feedback.pushInfo(f"{row['class_name']}: {row['area_ha']:.2f} ha ({row['percent']:.1f} %)")
        burned = sum(r["area_ha"] for r in rows if r["class_id"] >= 4)
        style_outputs(
            context,
            {
                self.OUTPUT_DNBR: (outputs.dnbr, "dNBR"),
                self.OUTPUT_SEVERITY: (outputs.severity, "Burn severity"),
                self.OUTPUT_RDNBR: (outputs.rdnbr, "RdNBR"),
                self.OUTPUT_RBR: (outputs.rbr, "RBR"),
            },
        )
        return {
            **entries,
            self.OUTPUT_DNBR: outputs.dnbr,
            self.OUTPUT_SEVERITY: outputs.severity,
            self.OUTPUT_RDNBR: outputs.rdnbr,
            self.OUTPUT_RBR: outputs.rbr,
            self.BURNED_AREA_HA: burned,
            self.VALID_AREA_HA: sum(r["area_ha"] for r in rows),
        }
