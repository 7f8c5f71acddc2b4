"""Vegetation loss (clear-cuts, storm and insect damage) from the NDVI and NDMI drops between two dates.

NDVI = (NIR - red) / (NIR + red) (Rouse et al. 1974); NDMI = (NIR - SWIR1) / (NIR + SWIR1)
(Gao 1996; Wilson & Sader 2002 for forest harvest, the canopy-water index forest disturbance
products use). A pixel lost vegetation when it was vegetated before (NDVI before at least
``min_ndvi_before``) and both indices dropped by at least their thresholds. The thresholds
are automatic — Kittler-Illingworth (or Otsu) on a whole-raster sample of each drop among
vegetated pixels, never below the given drop — or the user's values. Clouds and shadows look
like loss: mask them first (no data stays no data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..engine.threshold import automatic_threshold, method_label
from ..errors import EmptyDataError, ParameterError
from ..io.sensors import normalized_difference
from ..io.windows import HaloWindow
from ..outputs.writer import RasterOutput
from ..progress import Log
from . import common
from .declaration import ImageInput, IndexMethod, Number, Opened, RasterOut, Result, RunRequest

VEGETATION_LOSS = ClassScheme(
    (ClassInfo(1, "No loss", "#d9d9d9", background=True), ClassInfo(2, "Vegetation loss", "#b2182b")),
    nodata=0,
)


@dataclass(frozen=True)
class VegetationLossConfig(common.OpticalPairConfig):
    """Thresholds (index units), how they are found, and the reflectance conversion and resampling."""

    threshold_method: str = "ki"
    ndvi_drop: float = 0.1
    ndmi_drop: float = 0.1
    min_ndvi_before: float = 0.4

    def __post_init__(self) -> None:
        common.check_threshold_method(self.threshold_method)
        if not (0.0 < self.ndvi_drop <= 2.0 and 0.0 < self.ndmi_drop <= 2.0):
            raise ParameterError("The NDVI and NDMI drops must be between 0 and 2.")


def index_drops(
    red0: np.ndarray, nir0: np.ndarray, swir0: np.ndarray, red1: np.ndarray, nir1: np.ndarray, swir1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(NDVI before, NDVI drop, NDMI drop) from reflectances of one shape; float32, NaN = no data.

    A drop is the index before minus the index after (positive = vegetation lost).
    """
    ndvi0 = normalized_difference(nir0, red0)
    ndvi_drop = ndvi0 - normalized_difference(nir1, red1)
    ndmi_drop = normalized_difference(nir0, swir0) - normalized_difference(nir1, swir1)
    return ndvi0, ndvi_drop, ndmi_drop


def loss_classes(
    ndvi0: np.ndarray, ndvi_drop: np.ndarray, ndmi_drop: np.ndarray, thresholds: Mapping[str, float], min_ndvi: float
) -> np.ndarray:
    """Class per pixel (uint8, the inputs' shape): 2 vegetation loss, 1 no loss, 0 no data (any index missing)."""
    valid = np.isfinite(ndvi0) & np.isfinite(ndvi_drop) & np.isfinite(ndmi_drop)
    with np.errstate(invalid="ignore"):
        lost = (ndvi0 >= min_ndvi) & (ndvi_drop >= thresholds["ndvi"]) & (ndmi_drop >= thresholds["ndmi"])
    classes = np.where(lost, 2, 1).astype(np.uint8)
    classes[~valid] = VEGETATION_LOSS.nodata
    return classes


class VegetationLoss(IndexMethod):
    """Vegetation loss where both NDVI and NDMI drop on pixels that were vegetated."""

    id = "vegetationloss"
    title = "Vegetation loss (NDVI and NDMI drop)"
    group = "change"
    task = "change"
    panel_label = "Vegetation loss (NDVI and NDMI drop)"
    summary = (
        "Index method: forest clear-cuts, storm and insect damage where NDVI and NDMI both drop on vegetated "
        "pixels; automatic (Kittler-Illingworth) or your thresholds."
    )
    measure_name = "NDMI drop"
    purpose = "vegetation loss (red, NIR and SWIR1)"
    scheme = VEGETATION_LOSS
    config_type = VegetationLossConfig
    measure_output = "ndmi_drop"
    pointwise_measures = True
    params = (
        ImageInput("BEFORE", "Before image", "Optical image before the loss; its grid is the output grid.",
                   key="before", title="before image"),
        ImageInput("AFTER", "After image", "Optical image after the loss, any grid overlapping the before image.",
                   key="after", title="after image"),
        common.threshold_method(
            "ki", help="Automatic thresholds are computed on each drop among vegetated pixels of the whole image."
        ),
        Number("NDVI_DROP", "Minimum NDVI drop", "With the user threshold: the NDVI drop threshold. With an "
               "automatic one: the lowest threshold accepted.", field="ndvi_drop", default=0.1, minimum=0.01,
               maximum=2.0),
        Number("NDMI_DROP", "Minimum NDMI drop", "With the user threshold: the NDMI drop threshold. With an "
               "automatic one: the lowest threshold accepted.", field="ndmi_drop", default=0.1, minimum=0.01,
               maximum=2.0),
        Number("MIN_NDVI_BEFORE", "Minimum NDVI before (vegetated)", "Only pixels at least this green before can "
               "lose vegetation (0.4 is closed canopy or dense crop).", True, field="min_ndvi_before",
               default=0.4, minimum=-1.0, maximum=1.0),
        *common.bands(
            (("RED", "red", "red"), ("NIR", "nir", "NIR"), ("SWIR1", "swir1", "SWIR1")),
            advanced=True,
        ),
        *common.before_after_reflectance(),
        common.pixel_aligned(),
        RasterOut("OUTPUT", "Vegetation loss", "Classes 1 = no loss, 2 = vegetation loss (0 = no data).",
                  key="classes"),
        RasterOut("OUTPUT_NDMI_DROP", "NDMI drop", "NDMI before minus NDMI after.", key="ndmi_drop", optional=True),
        RasterOut("OUTPUT_NDVI_DROP", "NDVI drop", "NDVI before minus NDVI after.", key="ndvi_drop", optional=True,
                  create_by_default=False),
        common.cloud_mask(),
    )  # fmt: skip
    results = (
        Result("LOSS_AREA_HA", "Vegetation loss area (ha)", "mapped_area_ha"),
        Result("THRESHOLD", "NDMI drop threshold used", "threshold"),
    )
    help_html = (
        "Maps vegetation loss — forest clear-cuts, storm and insect damage, land clearing — between two optical "
        "images (Sentinel-2, Landsat 8/9 or any image with red, NIR and SWIR1 bands).<br><br>"
        "NDVI = (NIR - red) / (NIR + red) and NDMI = (NIR - SWIR1) / (NIR + SWIR1) on each date. A pixel lost "
        "vegetation when it was vegetated before (NDVI at least 0.4 by default) and both indices dropped by "
        "at least their thresholds.<br>"
        "<b>Thresholds</b>: Kittler-Illingworth (default) or Otsu on a sample of each drop over the whole image "
        "(vegetated pixels only), never below the minimum drops; or the minimum drops themselves (user).<br>"
        "<b>Minimum mapping unit</b>: forest loss products often use 0.5 ha (5000 m²).<br>"
        "Clouds, shadows and seasonal differences (leaf-off, harvest) also lower both indices: compare images "
        "of the same season and mask clouds."
    )

    def open(self, request: RunRequest, scratch: str, log: Log) -> Opened:
        """The declared bands; with user thresholds, states them now (there is no fitting step)."""
        opened = super().open(request, scratch, log)
        c: VegetationLossConfig = request.config
        if c.threshold_method == "user":
            log(
                f"Vegetation loss where NDVI before >= {c.min_ndvi_before:g}, NDVI drop >= {c.ndvi_drop:g} "
                f"and NDMI drop >= {c.ndmi_drop:g} (user thresholds)."
            )
        return opened

    def sample_keys(self, config: VegetationLossConfig, opened: Opened) -> tuple[str, ...]:
        """Both drops, sampled on vegetated pixels (automatic thresholds only)."""
        return () if config.threshold_method == "user" else ("ndvi_drop", "ndmi_drop")

    def measures(
        self, config: VegetationLossConfig, opened: Opened, arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """Both drops of one block (float32, core-window shape) where the before image was vegetated,
        NaN elsewhere.
        """
        ndvi0, ndvi_drop, ndmi_drop = self._drops(arrays)
        with np.errstate(invalid="ignore"):
            bare = ~(ndvi0 >= config.min_ndvi_before)
        ndvi_drop[bare] = np.nan
        ndmi_drop[bare] = np.nan
        return {"ndvi_drop": ndvi_drop, "ndmi_drop": ndmi_drop}

    def fit(
        self, config: VegetationLossConfig, opened: Opened, samples: Mapping[str, np.ndarray], log: Log
    ) -> dict[str, Any]:
        """Automatic thresholds on the drops (1-D samples; never below the minimum drops), or the user's.

        Raises :class:`EmptyDataError` when no pixel was vegetated before.
        """
        floors = {"ndvi": config.ndvi_drop, "ndmi": config.ndmi_drop}
        thresholds = dict(floors)
        if config.threshold_method != "user":
            if samples["ndvi_drop"].size == 0:
                raise EmptyDataError(
                    f"No pixel of the before image is vegetated (NDVI >= {config.min_ndvi_before:g}) where both "
                    "images have data: check the bands and the reflectance conversion."
                )
            for key in floors:
                try:
                    found = automatic_threshold(samples[f"{key}_drop"], config.threshold_method)
                except EmptyDataError:
                    found = floors[key]
                thresholds[key] = max(found, floors[key])
        label = method_label(config.threshold_method)
        log(
            f"Vegetation loss where NDVI before >= {config.min_ndvi_before:g}, NDVI drop >= {thresholds['ndvi']:.3f} "
            f"and NDMI drop >= {thresholds['ndmi']:.3f} ({label})."
        )
        return {"thresholds": thresholds, "threshold": thresholds["ndmi"]}

    def compute(
        self, config: VegetationLossConfig, fitted: Mapping[str, Any], arrays: Mapping[str, np.ndarray], w: HaloWindow
    ) -> dict[str, np.ndarray]:
        """Loss classes (uint8) and both drops (float32) of one block, core-window shape."""
        ndvi0, ndvi_drop, ndmi_drop = self._drops(arrays)
        thresholds = fitted.get("thresholds") or {"ndvi": config.ndvi_drop, "ndmi": config.ndmi_drop}
        classes = loss_classes(ndvi0, ndvi_drop, ndmi_drop, thresholds, config.min_ndvi_before)
        return {"classes": classes, "ndvi_drop": ndvi_drop, "ndmi_drop": ndmi_drop}

    def threshold(self, config: VegetationLossConfig, fitted: Mapping[str, Any]) -> float:
        """The NDMI drop threshold (the driving measure's)."""
        return fitted.get("threshold", config.ndmi_drop)

    def output_specs(
        self, config: VegetationLossConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> dict[str, RasterOutput]:
        """Paletted loss classes and both drops styled from greening to loss."""
        style = common.diverging_style(-0.5, 0.5, "-0.5 (greening)", "0.5 (loss)")
        return {
            "classes": RasterOutput("", "Byte", VEGETATION_LOSS.nodata, "Vegetation loss", VEGETATION_LOSS),
            "ndmi_drop": RasterOutput("", description="NDMI drop (before - after)", qml=style),
            "ndvi_drop": RasterOutput("", description="NDVI drop (before - after)", qml=style),
        }

    @staticmethod
    def _drops(arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = arrays
        return index_drops(
            a["red_before"], a["nir_before"], a["swir1_before"], a["red_after"], a["nir_after"], a["swir1_after"]
        )
