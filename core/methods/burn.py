"""Burn severity from pre- and post-fire images: NBR, dNBR, RdNBR, RBR and the USGS classes.

NBR = (NIR - SWIR2) / (NIR + SWIR2) per date; dNBR = NBR_pre - NBR_post (Key & Benson 2006,
FIREMON); RdNBR = dNBR / sqrt(|NBR_pre|) (Miller & Thode 2007); RBR = dNBR / (NBR_pre + 1.001)
(Parks et al. 2014). All unscaled (the literature often quotes x 1000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..errors import ParameterError
from ..io.sensors import normalized_difference
from ..io.windows import HaloWindow
from ..outputs.writer import RasterOutput
from . import common
from .declaration import ImageInput, IndexMethod, Opened, RasterOut, Result, Text, parse_number_list

SEVERITY = ClassScheme(
    (
        ClassInfo(1, "Enhanced regrowth, high", "#7a8737", background=True),
        ClassInfo(2, "Enhanced regrowth, low", "#acbe4d", background=True),
        ClassInfo(3, "Unburned", "#0ae042", background=True),
        ClassInfo(4, "Low severity", "#fff70b"),
        ClassInfo(5, "Moderate-low severity", "#ffaf38"),
        ClassInfo(6, "Moderate-high severity", "#ff641b"),
        ClassInfo(7, "High severity", "#a41fd6"),
    ),
    nodata=0,
)
# Upper bounds (inclusive) of classes 1-6 on dNBR (USGS / UN-SPIDER, Key & Benson 2006).
DEFAULT_BREAKS = (-0.251, -0.101, 0.099, 0.269, 0.439, 0.659)
RDNBR_FLOOR = 0.001


@dataclass(frozen=True)
class BurnSeverityConfig(common.OpticalPairConfig):
    """Reflectance conversion, resampling of the post-fire image and the six dNBR class breaks."""

    breaks: tuple[float, ...] = DEFAULT_BREAKS

    def __post_init__(self) -> None:
        if len(self.breaks) != 6 or any(b >= a for a, b in zip(self.breaks[1:], self.breaks[:-1])):
            raise ParameterError("Severity breaks must be 6 increasing dNBR values.")


def classify_dnbr(dnbr: np.ndarray, breaks: tuple[float, ...] = DEFAULT_BREAKS) -> np.ndarray:
    """Severity class 1-7 per pixel (uint8, 0 where dNBR is NaN), same shape as ``dnbr``.

    Class k holds ``breaks[k-2] < dNBR <= breaks[k-1]`` (USGS / UN-SPIDER breaks by default).
    """
    values = np.asarray(dnbr)
    if values.dtype != np.float32:  # other types: the reference rule, in float64
        classes = (np.searchsorted(np.asarray(breaks, dtype=np.float64), values, side="left") + 1).astype(np.uint8)
    else:  # one comparison per break, on float32 thresholds that decide exactly like the float64 breaks
        classes = np.ones(values.shape, np.uint8)
        above = np.empty(values.shape, bool)
        for limit in float32_limits(breaks):
            np.greater(values, limit, out=above)
            classes += above
    np.copyto(classes, np.uint8(SEVERITY.nodata), where=~np.isfinite(values))
    return classes


def float32_limits(breaks: tuple[float, ...]) -> tuple[np.float32, ...]:
    """For each break ``b`` (float64) the largest float32 ``t <= b``: for float32 ``x``, ``x > b`` exactly
    when ``x > t``, so float32 comparisons classify as the float64 breaks do."""
    out = []
    for b in breaks:
        t = np.float32(b)
        if float(t) > b:
            t = np.nextafter(t, np.float32(-np.inf))
        out.append(t)
    return tuple(out)


def burn_indices(
    nir_pre: np.ndarray, swir_pre: np.ndarray, nir_post: np.ndarray, swir_post: np.ndarray, relative: bool = True
) -> dict[str, np.ndarray]:
    """dNBR (and, when ``relative``, RdNBR and RBR) from reflectances of one shape, float32, NaN = no data.

    RdNBR uses ``max(|NBR_pre|, 0.001)`` so that bare pre-fire ground does not divide by zero.
    """
    nbr_pre = normalized_difference(nir_pre, swir_pre)
    dnbr = nbr_pre - normalized_difference(nir_post, swir_post)
    if not relative:
        return {"dnbr": dnbr}
    with np.errstate(divide="ignore", invalid="ignore"):
        rdnbr = dnbr / np.sqrt(np.maximum(np.abs(nbr_pre), RDNBR_FLOOR))
        rbr = dnbr / (nbr_pre + 1.001)
    return {"dnbr": dnbr, "rdnbr": rdnbr, "rbr": rbr}


def _style(lo: float, hi: float) -> str:
    return common.diverging_style(lo, hi, f"{lo:g} (regrowth)", f"{hi:g} (severe)")


def _breaks(text: str) -> tuple[float, ...]:
    return parse_number_list(text, 6, "Severity breaks")


NIR_HELP = "NIR: Sentinel-2 B8A, else B8; Landsat SR_B5."
SWIR2_HELP = "SWIR2: Sentinel-2 B12; Landsat SR_B7."


class BurnSeverity(IndexMethod):
    """dNBR from pre- and post-fire NIR/SWIR2, classified with the USGS severity breaks."""

    id = "burnseverity"
    title = "Burn severity (dNBR)"
    group = "burned"
    task = "burn"
    panel_label = "dNBR index (USGS severity classes)"
    summary = "Index method: NBR = (NIR - SWIR2) / (NIR + SWIR2); dNBR classed with the USGS / UN-SPIDER breaks."
    measure_name = "dNBR"
    purpose = "burn severity (NIR and SWIR2)"
    scheme = SEVERITY
    config_type = BurnSeverityConfig
    class_output = "severity"
    measure_output = "dnbr"
    params = (
        ImageInput(
            "PRE",
            "Pre-fire image",
            "Pre-fire image with NIR and SWIR2 bands; its grid (CRS, pixels) is the output grid.",
            key="before",
            title="pre-fire image",
        ),
        ImageInput(
            "POST",
            "Post-fire image",
            "Post-fire image with NIR and SWIR2 bands; any CRS, pixel size or extent overlapping the pre-fire one.",
            key="after",
            title="post-fire image",
        ),
        *common.bands(
            (("NIR", "nir_narrow", "NIR"), ("SWIR2", "swir2", "SWIR2")),
            (("PRE", "Pre-fire"), ("POST", "Post-fire")),
            {"nir_narrow": NIR_HELP, "swir2": SWIR2_HELP},
            shown_as={"nir_narrow": "nir"},  # the panel shows and fills the broad NIR band (B8) as before
        ),
        *common.reflectance(
            "Resampling of the post-fire image onto the pre-fire grid",
            (("PRE", "before", "Pre-fire image"), ("POST", "after", "Post-fire image")),
            advanced=False,
        ),
        Text(
            "BREAKS",
            "Severity class breaks on dNBR (6 increasing values)",
            "Six increasing dNBR values (unscaled) between the seven classes; the default is USGS / UN-SPIDER.",
            True,
            field="breaks",
            default=",".join(f"{b:g}" for b in DEFAULT_BREAKS),
            parse=_breaks,
        ),
        common.pixel_aligned(),
        RasterOut(
            "OUTPUT_DNBR", "dNBR", "dNBR as Float32, unscaled (NaN = no data), on the pre-fire grid.", key="dnbr"
        ),
        RasterOut(
            "OUTPUT_SEVERITY",
            "Burn severity classes",
            "Severity classes 1-7 as Byte (0 = no data).",
            key="severity",
            layer="Burn severity",
        ),
        RasterOut(
            "OUTPUT_RDNBR",
            "RdNBR",
            "RdNBR = dNBR / sqrt(|NBR pre|), Float32.",
            key="rdnbr",
            optional=True,
            create_by_default=False,
        ),
        RasterOut(
            "OUTPUT_RBR",
            "RBR",
            "RBR = dNBR / (NBR pre + 1.001), Float32.",
            key="rbr",
            optional=True,
            create_by_default=False,
        ),
        common.cloud_mask(),
    )
    results = (
        Result("BURNED_AREA_HA", "Burned area, low severity or worse (ha)", "mapped_area_ha"),
        Result("VALID_AREA_HA", "Area with data on both dates (ha)", "valid_area_ha"),
    )
    help_html = (
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
        "outputs cover the area both images share. No data in either date stays no data."
    )

    def compute(
        self,
        config: BurnSeverityConfig,
        fitted: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        window: HaloWindow,
    ) -> dict[str, np.ndarray]:
        """Indices and severity classes of one block.

        ``arrays`` hold reflectances (float32, shape of the read window; no halo) keyed
        ``<role>_<date>``; returns float32 dNBR (and RdNBR/RBR when asked for) and uint8 severity
        classes of the same shape.
        """
        wanted = fitted.get("wanted", ())
        out = burn_indices(
            arrays["nir_narrow_before"],
            arrays["swir2_before"],
            arrays["nir_narrow_after"],
            arrays["swir2_after"],
            relative="rdnbr" in wanted or "rbr" in wanted,
        )
        out["severity"] = classify_dnbr(out["dnbr"], config.breaks)
        return out

    def output_specs(
        self, config: BurnSeverityConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> dict[str, RasterOutput]:
        """dNBR, RdNBR and RBR as Float32 with diverging styles; severity as paletted Byte."""
        return {
            "dnbr": RasterOutput("", description="dNBR", qml=_style(-0.5, 1.0)),
            "rdnbr": RasterOutput("", description="RdNBR", qml=_style(-1.0, 2.0)),
            "rbr": RasterOutput("", description="RBR", qml=_style(-0.5, 0.8)),
            "severity": RasterOutput("", "Byte", SEVERITY.nodata, "Burn severity (USGS dNBR classes)", SEVERITY),
        }

    def threshold(self, config: BurnSeverityConfig, fitted: Mapping[str, Any]) -> float:
        """The burned/unburned break (dNBR > 0.099 by default)."""
        return config.breaks[2]

    def breaks(self, config: BurnSeverityConfig) -> tuple[float, ...]:
        """The six severity breaks."""
        return config.breaks
