"""Flood extent from optical images (Sentinel-2, Landsat 8/9): NDWI or MNDWI water, new vs permanent.

MNDWI = (green - SWIR1) / (green + SWIR1) (Xu 2006) when a SWIR1 band exists, else NDWI =
(green - NIR) / (green + NIR) (McFeeters 1996). Water = index above a threshold (Otsu /
Kittler-Illingworth on a sample of the whole raster, or the user's, textbook 0). New water
(flooded) = water after that was not water before; permanent = water on both dates. Cloud,
shadow, cirrus and snow from the product's mask (Sentinel-2 SCL or MSK_CLASSI, Landsat QA_PIXEL) are no data
(:mod:`changelens.core.io.masks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..engine.threshold import automatic_threshold, method_label
from ..errors import EmptyDataError, ParameterError
from ..io.masks import MASK_HELP, SCL_MASKED
from ..io.sensors import normalized_difference
from ..io.stack import date_has_role
from ..io.windows import HaloWindow
from ..outputs.writer import RasterOutput
from ..progress import Log
from . import common
from .declaration import Choice, ImageInput, IndexMethod, Number, Opened, RasterOut, Result, RunRequest
from .flood_sar import FLOOD
from .opening import open_declared

WATER_INDICES = (
    ("auto", "Automatic (MNDWI when a SWIR1 band exists, else NDWI)"),
    ("mndwi", "MNDWI (green, SWIR1)"),
    ("ndwi", "NDWI (green, NIR)"),
)


@dataclass(frozen=True)
class OpticalFloodConfig(common.OpticalPairConfig):
    """Water index, threshold, cloud mask, reflectance conversion and resampling."""

    index: str = "auto"
    threshold_method: str = "otsu"
    user_threshold: float = 0.0

    def __post_init__(self) -> None:
        if self.index not in dict(WATER_INDICES):
            raise ParameterError(f"Unknown water index '{self.index}'.")
        common.check_threshold_method(self.threshold_method)
        if not -1.0 <= self.user_threshold <= 1.0:
            raise ParameterError("The water index threshold must be between -1 and 1.")


def masked_index(green: np.ndarray, other: np.ndarray, scl: np.ndarray | None) -> np.ndarray:
    """Water index of one date from green and the other band (reflectances of one shape): float32 of
    that shape, NaN = no data; SCL (same shape) cloud, shadow, cirrus and snow classes become NaN (the
    readers already mask them; kept for an SCL band chosen by number).
    """
    index = normalized_difference(green, other)
    if scl is not None:
        index[np.isin(np.nan_to_num(scl, nan=0).astype(np.int16), SCL_MASKED)] = np.nan
    return index


def water_classes(after: np.ndarray, before: np.ndarray | None, threshold: float) -> np.ndarray:
    """Class per pixel (uint8, shape of ``after``): 1 not flooded, 2 flooded (new water), 3 permanent water,
    0 no data; ``after``/``before`` are water-index arrays of one shape, water above ``threshold``."""
    valid = np.isfinite(after)
    water_after = after > threshold
    if before is None:
        permanent = np.zeros_like(water_after)
        flooded = water_after
    else:
        valid &= np.isfinite(before)
        water_before = before > threshold
        permanent = water_after & water_before
        flooded = water_after & ~water_before
    classes = np.ones(flooded.shape, np.uint8)  # flooded and permanent water never overlap
    np.copyto(classes, np.uint8(3), where=permanent)
    np.copyto(classes, np.uint8(2), where=flooded)
    np.copyto(classes, np.uint8(FLOOD.nodata), where=~valid)
    return classes


class OpticalFlood(IndexMethod):
    """New and permanent water from NDWI or MNDWI on Sentinel-2 / Landsat images."""

    id = "opticalflood"
    title = "Flood extent from optical images (NDWI / MNDWI)"
    group = "flood"
    task = "flood"
    panel_label = "Optical water index (MNDWI / NDWI)"
    summary = (
        "Index method: MNDWI (green, SWIR1), or NDWI (green, NIR) when there is no SWIR1 band; automatic "
        "threshold; the product's cloud mask (SCL, MSK_CLASSI, QA_PIXEL) masks clouds; new water vs permanent water."
    )
    measure_name = "water index"
    purpose = "a water index (green and SWIR1 or NIR)"
    scheme = FLOOD
    config_type = OpticalFloodConfig
    measure_output = "index"
    pointwise_measures = True
    params = (
        ImageInput(
            "BEFORE",
            "Before image (optional)",
            "Optical image before the flood (Sentinel-2, Landsat 8/9 ...); its grid is the output grid. "
            "Without it, all water after the event counts as flooded.",
            key="before",
            optional=True,
            title="before image",
        ),
        ImageInput(
            "AFTER",
            "After image",
            "Optical image after the flood, any grid overlapping the before image.",
            key="after",
            title="after image",
        ),
        Choice(
            "INDEX",
            "Water index",
            "Water index: MNDWI uses green and SWIR1, NDWI green and NIR.",
            field="index",
            choices=WATER_INDICES,
            default="auto",
        ),
        common.threshold_method(
            "otsu", help="How the water threshold on the index is found (on a sample of the whole image)."
        ),
        common.cloud_mask(MASK_HELP),
        Number(
            "THRESHOLD_VALUE",
            "User threshold on the water index",
            "Used only with the user threshold: index values above this are water.",
            True,
            field="user_threshold",
            default=0.0,
            minimum=-1,
            maximum=1,
        ),
        *common.bands(
            (("GREEN", "green", "green"), ("OTHER", "other", "SWIR1 (MNDWI) or NIR (NDWI)"), ("SCL", "scl", "SCL")),
            advanced=True,
            optional=("other", "scl"),
            shown_as={"other": "swir1"},
        ),
        *common.before_after_reflectance(),
        common.pixel_aligned(),
        RasterOut(
            "OUTPUT",
            "Flood extent",
            "Classes 1 = not flooded, 2 = flooded, 3 = permanent water (0 = no data).",
            key="classes",
        ),
        RasterOut(
            "OUTPUT_INDEX",
            "Water index after",
            "The water index of the after image.",
            key="index",
            optional=True,
            layer="Water index",
        ),
    )
    results = (
        Result("FLOODED_AREA_HA", "Flooded area (ha)", "mapped_area_ha"),
        Result("THRESHOLD", "Threshold used", "threshold"),
    )
    help_html = (
        "Maps water before and after a flood from Sentinel-2 or Landsat 8/9 images (the before image is "
        "optional).<br><br>"
        "MNDWI = (green - SWIR1) / (green + SWIR1) (Xu), the default when a SWIR1 band exists; NDWI = "
        "(green - NIR) / (green + NIR) (McFeeters). Water = index above the threshold: Otsu or "
        "Kittler-Illingworth on a sample of the whole raster (both dates), or your value (textbook 0).<br>"
        "Classes: flooded (water after, not before), permanent water (both dates), not flooded. Without a "
        "before image all water is reported as flooded.<br>"
        "<b>Clouds</b>: when an image carries a cloud mask (Sentinel-2 SCL or MSK_CLASSI, Landsat QA_PIXEL; or "
        "an SCL band you pick), cloud, cloud shadow, cirrus, snow and defective pixels become no data.<br>"
        "Bands are found from band descriptions (B3/B11/B8, SR_B3/SR_B6/SR_B5); the band you pick wins. "
        "For MNDWI, 'other band' is SWIR1; for NDWI it is NIR."
    )

    def open(self, request: RunRequest, scratch: str, log: Log) -> Opened:
        """Choose MNDWI or NDWI from the after image, then open green, that band and SCL on one grid."""
        config: OpticalFloodConfig = request.config
        index = config.index
        if index == "auto":
            chosen = request.bands.get("after", {}).get("other")
            has_swir1 = date_has_role(request.images["after"], "swir1")  # type: ignore[arg-type]
            index = "mndwi" if chosen not in (None, "", 0) or has_swir1 else "ndwi"
        other = "swir1" if index == "mndwi" else "nir"
        log(f"Water index: {index.upper()} = (green - {other.upper()}) / (green + {other.upper()}).")
        opened = open_declared(
            self,
            request,
            scratch,
            log,
            rename={"other": other},
            optional_roles=("scl",),
            drop=("scl",) if config.cloud_mask == "none" else (),
        )
        opened.details.update(index=index, other=other, change=bool(request.images.get("before")))
        return opened

    def sample_keys(self, config: OpticalFloodConfig, opened: Opened) -> tuple[str, ...]:
        """The index of each date."""
        return ("after", "before") if opened.details["change"] else ("after",)

    def measures(
        self, config: OpticalFloodConfig, opened: Opened, arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """The cloud-masked water index of each date (float32, core-window shape)."""
        other = opened.details["other"]
        return {
            key: masked_index(arrays[f"green_{key}"], arrays[f"{other}_{key}"], arrays.get(f"scl_{key}"))
            for key in self.sample_keys(config, opened)
        }

    def fit(
        self, config: OpticalFloodConfig, opened: Opened, samples: Mapping[str, np.ndarray], log: Log
    ) -> dict[str, Any]:
        """One water threshold for both dates, from both dates' samples (1-D arrays), or the user's.

        Raises :class:`EmptyDataError` when the after image has no valid (cloud-free) pixel.
        """
        if samples["after"].size == 0:
            raise EmptyDataError("The after image has no valid (cloud-free) pixel where both images overlap.")
        if config.threshold_method == "user":
            threshold = config.user_threshold
        else:
            threshold = automatic_threshold(np.concatenate(list(samples.values())), config.threshold_method)
        where = "both dates" if opened.details["change"] else "the after image"
        name = opened.details["index"].upper()
        log(f"Water threshold: {name} > {threshold:.3f} ({method_label(config.threshold_method)}, {where}).")
        return {"threshold": threshold, "other": opened.details["other"], "dates": self.sample_keys(config, opened)}

    def compute(
        self,
        config: OpticalFloodConfig,
        fitted: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        window: HaloWindow,
    ) -> dict[str, np.ndarray]:
        """Water classes (uint8) and the after index (float32) of one block, core-window shape, from the
        bands (reflectance, float32; SCL codes) as the first pass read them: cheaper than storing the indices.
        """
        index = {
            key: masked_index(arrays[f"green_{key}"], arrays[f"{fitted['other']}_{key}"], arrays.get(f"scl_{key}"))
            for key in fitted["dates"]
        }
        return {
            "classes": water_classes(index["after"], index.get("before"), fitted["threshold"]),
            "index": index["after"],
        }

    def product_title(self, config: OpticalFloodConfig, opened: Opened) -> str:
        """Flood extent with the index used."""
        return f"Flood extent ({opened.details['index'].upper()})"

    def product_measure_name(self, config: OpticalFloodConfig, opened: Opened) -> str:
        """The index of the after image."""
        return f"{opened.details['index'].upper()} after"

    def output_specs(
        self, config: OpticalFloodConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> dict[str, RasterOutput]:
        """Paletted flood classes and the after index styled from dry (-1) to water (1)."""
        name = opened.details["index"].upper()
        return {
            "classes": RasterOutput("", "Byte", FLOOD.nodata, f"Flood extent ({name})", FLOOD),
            "index": RasterOutput(
                "", description=f"{name} after", qml=common.diverging_style(-1.0, 1.0, "-1 (dry)", "1 (water)")
            ),
        }

    def extra_parameters(
        self, config: OpticalFloodConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """The index and threshold actually used."""
        return [("Index used", opened.details["index"].upper()), ("Threshold used", f"{fitted['threshold']:.3f}")]
