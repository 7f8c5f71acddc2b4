"""New landslides from before/after optical images and a DEM: NDVI drop, brightening, steep slope.

A pixel is a candidate when NDVI drops by at least ``ndvi_drop``, visible brightness (mean of
red and green reflectance) rises by at least ``brightness_increase`` and the terrain is
steeper than ``min_slope_deg`` (the usual optical landslide cues: sudden vegetation loss with
bare, brighter ground on slopes over ~10-15 degrees; see the domain notes). ``MIN_AREA`` is this
method's minimum mapping unit: patches smaller than it merge into their surroundings
(8-connected, because scars are narrow and often diagonal), in the shared clean-up step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..errors import ParameterError
from ..io.raster import all_finite
from ..io.sensors import normalized_difference
from ..io.windows import HaloWindow
from ..outputs.vectorize import PolygonConfig
from ..outputs.writer import RasterOutput
from ..progress import Log
from . import common
from .declaration import ImageInput, IndexMethod, Number, Opened, RasterOut, Result, RunRequest

LANDSLIDE = ClassScheme(
    (ClassInfo(1, "No landslide", "#d9d9d9", background=True), ClassInfo(2, "New landslide", "#c2410c")),
    nodata=0,
)


@dataclass(frozen=True)
class LandslideConfig(common.OpticalPairConfig):
    """Thresholds (NDVI, reflectance, degrees), minimum landslide area (m²), conversion and resampling."""

    ndvi_drop: float = 0.2
    brightness_increase: float = 0.02
    min_slope_deg: float = 10.0
    min_area_m2: float = 500.0

    def __post_init__(self) -> None:
        if not 0.0 < self.ndvi_drop <= 2.0:
            raise ParameterError("The NDVI drop must be between 0 and 2.")
        if not 0.0 <= self.min_slope_deg < 90.0:
            raise ParameterError("The minimum slope must be between 0 and 90 degrees.")
        if self.min_area_m2 < 0:
            raise ParameterError("The minimum area must not be negative.")


def landslide_candidates(
    red0: np.ndarray,
    nir0: np.ndarray,
    green0: np.ndarray,
    red1: np.ndarray,
    nir1: np.ndarray,
    green1: np.ndarray,
    slope: np.ndarray,
    config: LandslideConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(classes, NDVI drop) per pixel from reflectances of one shape and slope in degrees.

    Classes are uint8 (1 no landslide, 2 new landslide, 0 where any input is missing), the
    drop float32 (NDVI before - NDVI after, NaN where missing).
    """
    drop = normalized_difference(nir0, red0) - normalized_difference(nir1, red1)
    brighter = ((red1 + green1) - (red0 + green0)) / 2.0
    valid = all_finite([drop, brighter])
    hit = (drop >= config.ndvi_drop) & (brighter >= config.brightness_increase)
    hit &= np.nan_to_num(slope, nan=0.0) >= config.min_slope_deg
    classes = np.where(hit, 2, 1).astype(np.uint8)
    classes[~valid] = LANDSLIDE.nodata
    drop[~valid] = np.nan
    return classes, drop


class Landslide(IndexMethod):
    """NDVI drop with brightening on steep slopes, with a minimum landslide area."""

    id = "landslide"
    title = "New landslides (NDVI drop on slopes)"
    group = "landslide"
    task = "landslide"
    panel_label = "NDVI drop on slopes"
    summary = (
        "Index method: vegetation loss (NDVI drop) and brightening on slopes steeper than a threshold "
        "computed from the DEM."
    )
    measure_name = "NDVI drop"
    purpose = "landslide mapping (red, NIR and green)"
    scheme = LANDSLIDE
    config_type = LandslideConfig
    class_output = "classes"
    measure_output = "drop"
    min_area_param = "MIN_AREA"
    params = (
        ImageInput(
            "BEFORE",
            "Before image",
            "Optical image before the event with red and NIR bands; its grid is the output grid.",
            key="before",
            title="before image",
        ),
        ImageInput(
            "AFTER",
            "After image",
            "Optical image after the event, any grid overlapping the before image.",
            key="after",
            title="after image",
        ),
        ImageInput(
            "DEM",
            "DEM (elevation in metres)",
            "Elevation in metres, any CRS; the slope is computed on the DEM's own grid.",
            key="dem",
            title="DEM",
        ),
        Number(
            "NDVI_DROP",
            "Minimum NDVI drop",
            "NDVI before minus NDVI after must reach this.",
            field="ndvi_drop",
            default=0.2,
            minimum=0.01,
            maximum=2.0,
        ),
        Number(
            "MIN_SLOPE",
            "Minimum slope (degrees)",
            "Only slopes at least this steep can hold a new landslide.",
            field="min_slope_deg",
            default=10.0,
            minimum=0.0,
            maximum=89,
        ),
        Number(
            "MIN_AREA",
            "Minimum landslide area (m2)",
            "The minimum mapping unit of landslides: smaller patches (8-connected) merge into their "
            "surroundings. The shared minimum mapping unit, when larger, wins.",
            field="min_area_m2",
            default=500.0,
            minimum=0.0,
        ),
        Number(
            "BRIGHTNESS_INCREASE",
            "Minimum visible brightness increase (reflectance)",
            "Bare ground is brighter: the mean of red and green reflectance must rise by this.",
            True,
            field="brightness_increase",
            default=0.02,
            minimum=-1.0,
            maximum=1.0,
        ),
        *common.bands(
            (("RED", "red", "red"), ("NIR", "nir", "NIR"), ("GREEN", "green", "green")),
            advanced=True,
        ),
        *common.before_after_reflectance(),
        common.pixel_aligned(),
        RasterOut(
            "OUTPUT", "New landslides", "Classes 1 = no landslide, 2 = new landslide (0 = no data).", key="classes"
        ),
        RasterOut("OUTPUT_NDVI_DROP", "NDVI drop", "NDVI before minus NDVI after.", key="drop", optional=True),
        common.cloud_mask(),
    )
    results = (Result("LANDSLIDE_AREA_HA", "New landslide area (ha)", "mapped_area_ha"),)
    help_html = (
        "Maps new landslides from a before and an after optical image (Sentinel-2, Landsat 8/9 or any image "
        "with green, red and NIR bands) and a DEM.<br><br>"
        "A pixel is a new landslide when NDVI drops by at least the given amount (default 0.2), the visible "
        "brightness (mean of red and green reflectance) rises by at least the given amount, and the slope "
        "is at least the minimum (default 10 degrees). The slope is computed on the DEM's own grid and CRS "
        "and resampled onto the image grid. Patches smaller than the minimum area are removed "
        "(8-connected).<br>"
        "Harvested fields and cloud shadows can look alike: the slope condition removes most of them."
    )

    def open(self, request: RunRequest, scratch: str, log: Log) -> Opened:
        """The declared bands of both dates, then the DEM's slope; states the decision rule."""
        opened = super().open(request, scratch, log)
        c: LandslideConfig = request.config
        log(
            f"Candidates: NDVI drop >= {c.ndvi_drop:g}, visible brightness increase >= {c.brightness_increase:g}, "
            f"slope >= {c.min_slope_deg:g} degrees; patches under {c.min_area_m2:g} m2 removed."
        )
        return opened

    def compute(
        self, config: LandslideConfig, fitted: Mapping[str, Any], arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """Candidate classes (uint8) and NDVI drop (float32) of one block (reflectances and slope in
        degrees in, core-window shape out).
        """
        a = arrays
        classes, drop = landslide_candidates(
            a["red_before"],
            a["nir_before"],
            a["green_before"],
            a["red_after"],
            a["nir_after"],
            a["green_after"],
            a["slope"],
            config,
        )
        return {"classes": classes, "drop": drop}

    def clean_up(self, config: LandslideConfig, polygons: PolygonConfig) -> PolygonConfig:
        """One minimum mapping unit: the larger of ``MIN_AREA`` and ``MIN_AREA_M2``, sieved 8-connected."""
        return dataclasses.replace(
            polygons, min_area_m2=max(polygons.min_area_m2, config.min_area_m2), sieve_eight_connected=True
        )

    def output_specs(
        self, config: LandslideConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> dict[str, RasterOutput]:
        """Paletted landslide classes and the NDVI drop styled from greening to loss."""
        return {
            "classes": RasterOutput("", "Byte", LANDSLIDE.nodata, "New landslides", LANDSLIDE),
            "drop": RasterOutput(
                "",
                description="NDVI drop (before - after)",
                qml=common.diverging_style(-0.5, 0.5, "-0.5 (greening)", "0.5 (loss)"),
            ),
        }

    def threshold(self, config: LandslideConfig, fitted: Mapping[str, Any]) -> float:
        """The NDVI drop threshold."""
        return config.ndvi_drop
