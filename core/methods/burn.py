"""Burn severity from pre- and post-fire images: NBR, dNBR, RdNBR, RBR and USGS classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..engine.stream import ClassStats, stream
from ..errors import ParameterError
from ..io.pair import DateInput, Log, no_log, open_pair
from ..io.raster import BandSpec, Radiometry
from ..io.sensors import normalized_difference
from ..io.windows import HaloWindow
from ..outputs.styles import diverging_stops, qml_pseudocolor
from ..outputs.writer import OutputSet, RasterOutput
from ..progress import Progress, no_progress

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
class BurnSeverityConfig:
    """Band choices (None = detect from descriptions), reflectance conversion and class breaks."""

    pre_nir_band: BandSpec | None = None
    pre_swir2_band: BandSpec | None = None
    post_nir_band: BandSpec | None = None
    post_swir2_band: BandSpec | None = None
    radiometry: str = "auto"
    custom_scale: float = 1.0
    custom_offset: float = 0.0
    resampling: str = "bilinear"
    breaks: tuple[float, ...] = DEFAULT_BREAKS

    def __post_init__(self) -> None:
        if len(self.breaks) != 6 or any(b >= a for a, b in zip(self.breaks[1:], self.breaks[:-1])):
            raise ParameterError("Severity breaks must be 6 increasing dNBR values.")


@dataclass(frozen=True)
class BurnSeverityOutputs:
    """Output paths; None means the output is not written."""

    dnbr: str | None = None
    severity: str | None = None
    rdnbr: str | None = None
    rbr: str | None = None


@dataclass
class BurnSeverityResult:
    """What a run measured: the class areas of the severity classes."""

    stats: ClassStats


def classify_dnbr(dnbr: np.ndarray, breaks: tuple[float, ...] = DEFAULT_BREAKS) -> np.ndarray:
    """Severity class 1-7 per pixel (0 where dNBR is NaN); class k holds breaks[k-2] < dNBR <= breaks[k-1]."""
    classes = (np.searchsorted(np.asarray(breaks, dtype=np.float64), dnbr, side="left") + 1).astype(np.uint8)
    classes[~np.isfinite(dnbr)] = SEVERITY.nodata
    return classes


def burn_indices(
    nir_pre: np.ndarray, swir_pre: np.ndarray, nir_post: np.ndarray, swir_post: np.ndarray, relative: bool = True
) -> dict[str, np.ndarray]:
    """dNBR (and, when ``relative``, RdNBR and RBR), unscaled, NaN where either date has no data."""
    nbr_pre = normalized_difference(nir_pre, swir_pre)
    dnbr = nbr_pre - normalized_difference(nir_post, swir_post)
    if not relative:
        return {"dnbr": dnbr}
    with np.errstate(divide="ignore", invalid="ignore"):
        rdnbr = dnbr / np.sqrt(np.maximum(np.abs(nbr_pre), RDNBR_FLOOR))
        rbr = dnbr / (nbr_pre + 1.001)
    return {"dnbr": dnbr, "rdnbr": rdnbr, "rbr": rbr}


def _style(title: str, lo: float, hi: float) -> str:
    return qml_pseudocolor(diverging_stops(lo, hi, f"{lo:g} (regrowth)", f"{hi:g} (severe)"), lo, hi)


def run_burn_severity(
    pre_path: str,
    post_path: str,
    outputs: BurnSeverityOutputs,
    config: BurnSeverityConfig = BurnSeverityConfig(),
    progress: Progress = no_progress,
    log: Log = no_log,
) -> BurnSeverityResult:
    """Compute dNBR (and optional RdNBR, RBR, severity classes) block by block."""
    roles = ("nir_narrow", "swir2")
    pair = open_pair(
        DateInput(pre_path, "pre-fire image", {"nir_narrow": config.pre_nir_band, "swir2": config.pre_swir2_band}),
        DateInput(post_path, "post-fire image", {"nir_narrow": config.post_nir_band, "swir2": config.post_swir2_band}),
        roles,
        "burn severity (NIR and SWIR2)",
        config.radiometry,
        Radiometry(config.custom_scale, config.custom_offset),
        config.resampling,
        log,
    )
    specs = {
        "dnbr": outputs.dnbr and RasterOutput(outputs.dnbr, description="dNBR", qml=_style("dNBR", -0.5, 1.0)),
        "rdnbr": outputs.rdnbr and RasterOutput(outputs.rdnbr, description="RdNBR", qml=_style("RdNBR", -1.0, 2.0)),
        "rbr": outputs.rbr and RasterOutput(outputs.rbr, description="RBR", qml=_style("RBR", -0.5, 0.8)),
        "severity": outputs.severity
        and RasterOutput(outputs.severity, "Byte", SEVERITY.nodata, "Burn severity (USGS dNBR classes)", SEVERITY),
    }
    stats = ClassStats(SEVERITY)
    relative = bool(outputs.rdnbr or outputs.rbr)

    def compute(arrays: Mapping[str, np.ndarray], _hw: HaloWindow) -> dict[str, np.ndarray]:
        idx = burn_indices(
            arrays["nir_narrow_before"],
            arrays["swir2_before"],
            arrays["nir_narrow_after"],
            arrays["swir2_after"],
            relative=relative,
        )
        idx["severity"] = classify_dnbr(idx["dnbr"], config.breaks)
        return idx

    grid = pair.aligned.grid
    with OutputSet(grid, {k: v or None for k, v in specs.items()}) as out:
        stream(grid, pair.readers, compute, out, progress, {"severity": stats})
    return BurnSeverityResult(stats)
