"""Flood extent from Sentinel-1: speckle filter, log-ratio change and dark-water thresholds.

With a before image: flooded = water after the event (dark after, or a strong backscatter
drop that is also fairly dark) that was not water before; permanent water = water on both
dates. Without one: open water on the after image. Steep slopes (from an optional DEM) are
never flooded. Log-ratio = after dB - before dB (UN-SPIDER recommended practice); thresholds
are Otsu or Kittler-Illingworth on a whole-raster sample, or the user's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..engine.filters import SPECKLE_FILTERS, pad_to_halo, speckle_filter
from ..errors import EmptyDataError, ParameterError
from ..io.raster import BandReader
from ..io.sar import SAR_SCALES, open_sar_dates, to_db
from ..io.windows import HaloWindow
from ..outputs.writer import RasterOutput
from ..progress import Log
from . import common
from .declaration import Choice, ImageInput, IndexMethod, Number, Opened, RasterOut, Result, RunRequest
from .opening import add_slope
from .sar_thresholds import plausible_water_threshold as plausible_water_threshold
from .sar_thresholds import water_thresholds

FLOOD = ClassScheme(
    (
        ClassInfo(1, "Not flooded", "#e8e4d8", background=True),
        ClassInfo(2, "Flooded", "#1f78ff"),
        ClassInfo(3, "Permanent water", "#08306b", background=True),
    ),
    nodata=0,
)
POLARISATIONS = (("auto", "Automatic (VV and VH when both exist)"), ("vv", "VV"), ("vh", "VH"), ("both", "VV and VH"))
SAR_NAMES = {"vv": ("VV", "SIGMA0_VV", "VV_DB"), "vh": ("VH", "SIGMA0_VH", "VH_DB")}


@dataclass(frozen=True)
class SarFloodConfig:
    """Scale, polarisation, speckle filter, thresholds (dB, or DN for 8-bit images) and slope mask."""

    polarisation: str = "auto"
    scale: str = "auto"
    speckle_filter: str = "auto"
    window_px: int = 7
    threshold_method: str = "otsu"
    change_threshold_db: float = -3.0
    water_threshold_db: float = -18.0
    max_slope_deg: float = 5.0
    resampling: str = "bilinear"
    pixel_aligned: bool = False  # dates without georeferencing on one pixel grid (areas unknown)
    water_guard: bool = True  # automatic thresholds on dB data stay within WATER_DB_BOUNDS

    def __post_init__(self) -> None:
        if self.window_px < 1 or self.window_px % 2 == 0 or self.window_px > 31:
            raise ParameterError("The speckle filter window must be an odd number of pixels between 1 and 31.")
        common.check_threshold_method(self.threshold_method)
        if not 0 < self.max_slope_deg <= 90:
            raise ParameterError("The maximum slope must be between 0 and 90 degrees.")


def flood_classes(
    after: np.ndarray,
    before: np.ndarray | None,
    ratio: np.ndarray | None,
    thresholds: Mapping[str, float],
    slope: np.ndarray | None = None,
    max_slope_deg: float = 5.0,
) -> np.ndarray:
    """Class per pixel (uint8, shape of ``after``): 1 not flooded, 2 flooded, 3 permanent water, 0 no data.

    ``after``/``before`` are filtered backscatter (dB or DN), ``ratio`` = after - before,
    ``slope`` in degrees (NaN outside the DEM: no slope mask there).
    """
    valid = np.isfinite(after)
    water_after = after < thresholds["water_after"]
    if before is None or ratio is None:
        flooded = water_after
        permanent = np.zeros_like(water_after)
    else:
        valid &= np.isfinite(before)
        water_before = before < thresholds["water_before"]
        dropped = (ratio < thresholds["change"]) & (after < thresholds["relaxed_water_after"])
        flooded = (water_after | dropped) & ~water_before
        permanent = water_after & water_before
    classes = np.ones(flooded.shape, np.uint8)  # flooded and permanent water never overlap
    np.copyto(classes, np.uint8(3), where=permanent)
    np.copyto(classes, np.uint8(2), where=flooded)
    if slope is not None:
        steep = np.nan_to_num(slope, nan=0.0) > max_slope_deg
        classes[steep & (classes == 2)] = 1
    np.copyto(classes, np.uint8(FLOOD.nodata), where=~valid)
    return classes


class SarFlood(IndexMethod):
    """Sentinel-1 flood mapping by log-ratio and dark-water thresholds."""

    id = "sarflood"
    title = "Flood extent from Sentinel-1 (log-ratio)"
    group = "flood"
    task = "flood"
    panel_label = "Sentinel-1 log-ratio and automatic threshold"
    summary = (
        "Index method: speckle filter, change of backscatter in dB and an automatic threshold; water present "
        "before is permanent water; optional DEM masks steep slopes. Without a before image: dark water."
    )
    measure_name = "log-ratio"
    scheme = FLOOD
    config_type = SarFloodConfig
    measure_output = "measure"
    block_width_px = 4096  # the refined Lee filter's box means are sums over a block: keep the blocks it had
    params = (
        ImageInput("BEFORE", "Before image (optional)", "Sentinel-1 GRD before the flood (VV and/or VH); its grid is "
                   "the output grid. Without it, every dark-water pixel after the event counts as flooded.",
                   key="before", optional=True, title="before image"),
        ImageInput("AFTER", "After image", "Sentinel-1 GRD after the flood (VV and/or VH), any grid overlapping the "
                   "before image.", key="after", title="after image"),
        ImageInput("DEM", "DEM for the slope mask", "Elevation in metres, any CRS; slopes steeper than the maximum "
                   "slope are never flooded.", key="dem", optional=True, title="DEM"),
        Choice("SCALE", "Input scale", "What the pixel values are; data declared as dB that is clearly not dB is "
               "refused.", field="scale", choices=SAR_SCALES, default="auto"),
        common.threshold_method("otsu", help="How the water and change thresholds are found (on a sample of the "
                                "whole image)."),
        *common.bands(
            (("VV", "vv", "VV"), ("VH", "vh", "VH")),
            advanced=True,
            optional=("vv", "vh"),
        ),
        Choice("POLARISATION", "Polarisation", "Bands used; with both, VV and VH are averaged in dB.", True,
               field="polarisation", choices=POLARISATIONS, default="auto"),
        Choice("FILTER", "Speckle filter", "Speckle filter applied to both dates before thresholding.", True,
               field="speckle_filter", choices=SPECKLE_FILTERS, default="auto"),
        Number("WINDOW", "Filter window (odd number of pixels)", "Speckle filter window in pixels (odd).", True,
               field="window_px", default=7, minimum=1, maximum=31, integer=True),
        Number("CHANGE_THRESHOLD", "User change threshold on the log-ratio (dB, or DN)", "Used only with the user "
               "threshold: a log-ratio drop below this is change.", True, field="change_threshold_db", default=-3.0),
        Number("WATER_THRESHOLD", "User water threshold (dB, or DN)", "Used only with the user threshold: "
               "backscatter below this is water.", True, field="water_threshold_db", default=-18.0),
        Number("MAX_SLOPE", "Maximum slope for flooding (degrees)", "Used only with a DEM.", True,
               field="max_slope_deg", default=5.0, minimum=0.1, maximum=90),
        common.resampling("Resampling of the after image onto the before grid"),
        common.pixel_aligned(),
        RasterOut("OUTPUT", "Flood extent", "Classes 1 = not flooded, 2 = flooded, 3 = permanent water (0 = no data).",
                  key="classes"),
        RasterOut("OUTPUT_MEASURE", "Log-ratio (or after backscatter)", "Log-ratio in dB (after - before), or the "
                  "after backscatter without a before image.", key="measure", optional=True, layer="SAR measure"),
    )  # fmt: skip
    results = (
        Result("FLOODED_AREA_HA", "Flooded area (ha)", "mapped_area_ha"),
        Result("THRESHOLD", "Threshold used", "threshold"),
    )
    help_html = (
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
        "the bands, scale, filter and thresholds, and the area of each class."
    )

    # -- opening -------------------------------------------------------------------------------

    def open(self, request: RunRequest, scratch: str, log: Log) -> Opened:
        """Both dates (or the after image alone): polarisation bands, checked scale, one grid."""
        config: SarFloodConfig = request.config
        dates = open_sar_dates(
            request.images,
            request.bands,
            config.polarisation,
            config.scale,
            config.resampling,
            log,
            config.pixel_aligned,
        )
        filt = config.speckle_filter
        if filt == "auto":
            filt = "median" if dates.scale == "display8" else "refined_lee"
        if filt == "refined_lee" and dates.scale == "display8":
            log("Refined Lee needs calibrated intensities; the 8-bit display image is filtered with a focal median.")
            filt = "median"
        size = config.window_px if filt != "none" else 1
        unit = "DN" if dates.scale == "display8" else "dB"
        how = f" (mean of the {unit} values)" if len(dates.pols) > 1 else ""
        log(f"Polarisation used: {dates.label}{how}; speckle filter: {filt} {size}x{size}.")
        opened = Opened(
            dates.grid,
            dates.readers,
            {k: v for k, v in request.images.items() if v},
            used=dates.used,
            details={
                "pols": dates.pols,
                "scale": dates.scale,
                "filter": filt,
                "size": size,
                "unit": unit,
                "change": len(dates.keys) == 2,
                "label": dates.label,
            },
            keep=dates.datasets,
        )
        add_slope(self, opened, request, scratch, log)
        if "slope" in opened.readers:
            log(f"Slopes steeper than {config.max_slope_deg:g} degrees are excluded from flooding.")
        return opened

    # -- first pass: filtered backscatter per date and the log-ratio ---------------------------

    def sample_keys(self, config: SarFloodConfig, opened: Opened) -> tuple[str, ...]:
        """The after image, and with a before image also the before image and the log-ratio."""
        return ("after", "before", "ratio") if opened.details["change"] else ("after",)

    def store_keys(self, config: SarFloodConfig, opened: Opened) -> tuple[str, ...]:
        """The filtered dates, filtered once and read back by the classification (which recomputes the
        log-ratio, a subtraction, rather than storing it)."""
        return ("after", "before") if opened.details["change"] else ("after",)

    def measures_halo_px(self, config: SarFloodConfig, opened: Opened) -> int:
        """Half the speckle filter window (none without a filter)."""
        return opened.details["size"] // 2

    def measures(
        self, config: SarFloodConfig, opened: Opened, arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """Speckle-filtered working-scale values per date (mean over polarisations, dB or DN) and their
        difference (the log-ratio), float32 of the core window's shape; arrays carry the filter's halo.
        """
        d = opened.details
        halo = d["size"] // 2

        def date(key: str) -> np.ndarray:
            layers = [
                speckle_filter(
                    pad_to_halo(to_db(arrays[f"{p}_{key}"], d["scale"]), window, halo),
                    d["filter"],
                    d["size"],
                    d["scale"],
                )
                for p in d["pols"]
            ]
            return layers[0] if len(layers) == 1 else np.mean(layers, axis=0)

        out = {"after": date("after")}
        if d["change"]:
            out["before"] = date("before")
            out["ratio"] = out["after"] - out["before"]
        return out

    def fit(
        self, config: SarFloodConfig, opened: Opened, samples: Mapping[str, np.ndarray], log: Log
    ) -> dict[str, Any]:
        """Water and change thresholds (dB, or DN) on the whole-raster samples (1-D arrays), or the user's.

        Raises :class:`EmptyDataError` when the images share no valid pixel.
        """
        if samples["after"].size == 0:
            raise EmptyDataError("The images have no valid pixel in common (all no data).")
        d = opened.details
        thresholds = water_thresholds(config, samples, d["change"], d["unit"], log, d["pols"])
        return {
            "thresholds": thresholds,
            "threshold": thresholds["change"] if d["change"] else thresholds["water_after"],
        }

    # -- second pass: classes ------------------------------------------------------------------

    def pass2_readers(self, opened: Opened, stored: dict[str, BandReader]) -> dict[str, BandReader]:
        """The stored measures and the slope."""
        extra = {"slope": opened.readers["slope"]} if "slope" in opened.readers else {}
        return {**stored, **extra}

    def compute(
        self, config: SarFloodConfig, fitted: Mapping[str, Any], arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """Flood classes (uint8) and the driving measure (log-ratio, or after backscatter; float32) of one
        block, from the stored measures and slope (degrees), core-window shape.
        """
        change = "before" in arrays
        ratio = arrays["after"] - arrays["before"] if change else None
        classes = flood_classes(
            arrays["after"],
            arrays.get("before"),
            ratio,
            fitted["thresholds"],
            arrays.get("slope"),
            config.max_slope_deg,
        )
        return {"classes": classes, "measure": ratio if ratio is not None else arrays["after"]}

    def product_title(self, config: SarFloodConfig, opened: Opened) -> str:
        """Flood extent (Sentinel-1)."""
        return "Flood extent (Sentinel-1)"

    def product_measure_name(self, config: SarFloodConfig, opened: Opened) -> str:
        """Log-ratio (with a before image) or after backscatter, with its unit."""
        unit = opened.details["unit"]
        return f"log-ratio after/before ({unit})" if opened.details["change"] else f"after backscatter ({unit})"

    def output_specs(
        self, config: SarFloodConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> dict[str, RasterOutput]:
        """Paletted flood classes and the measure with a diverging style in its unit's range."""
        unit, change = opened.details["unit"], opened.details["change"]
        if change:
            lo, hi = (-10.0, 10.0) if unit == "dB" else (-100.0, 100.0)
        else:
            lo, hi = (-30.0, 0.0) if unit == "dB" else (0.0, 255.0)
        return {
            "classes": RasterOutput("", "Byte", FLOOD.nodata, "Flood extent (Sentinel-1)", FLOOD),
            "measure": RasterOutput(
                "",
                description=self.product_measure_name(config, opened),
                qml=common.diverging_style(lo, hi, f"{lo:g}", f"{hi:g}"),
            ),
        }

    def extra_parameters(
        self, config: SarFloodConfig, opened: Opened, fitted: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """Polarisation, scale, filter and thresholds actually used."""
        d = opened.details
        return [
            ("Polarisation used", d["label"]),
            ("Scale used", d["scale"]),
            ("Speckle filter used", f"{d['filter']} {d['size']}x{d['size']}"),
            *((f"Threshold {k.replace('_', ' ')}", f"{v:.3f}") for k, v in fitted["thresholds"].items()),
            ("Slope mask", f"slopes over {config.max_slope_deg:g} degrees" if "slope" in opened.readers else "no DEM"),
        ]
