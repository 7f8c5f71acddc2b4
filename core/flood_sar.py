"""Flood extent from Sentinel-1: speckle filter, log-ratio change and dark-water thresholds.

With a before image: flooded = water after the event (dark after, or a strong
backscatter drop that is also fairly dark) that was not water before; permanent
water = water on both dates. Without one: open water on the after image.
Steep slopes (from an optional DEM) are never flooded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from osgeo import gdal

from .classes import ClassInfo, ClassScheme
from .engine import ClassStats, stream
from .errors import BandNotFoundError, EmptyDataError, ParameterError
from .grid import align_pair, grid_of
from .measure import measure_pass, pad_to_halo, scratch_folder
from .pair import Log, no_log
from .products import MapProduct
from .progress import Progress, no_progress, sub_progress
from .raster import BandReader, BandSpec, find_band_by_name, open_raster, resolve_band
from .sar import detect_scale, speckle_filter, to_db
from .styles import diverging_stops, qml_pseudocolor
from .terrain import slope_reader
from .threshold import Sampler, automatic_threshold, method_label
from .windows import HaloWindow
from .writer import OutputSet, RasterOutput

FLOOD = ClassScheme(
    (
        ClassInfo(1, "Not flooded", "#e8e4d8", background=True),
        ClassInfo(2, "Flooded", "#1f78ff"),
        ClassInfo(3, "Permanent water", "#08306b", background=True),
    ),
    nodata=0,
)
POLARISATIONS = (("auto", "Automatic (VV and VH when both exist)"), ("vv", "VV"), ("vh", "VH"), ("both", "VV and VH"))
# Plausible automatic water thresholds on calibrated backscatter, dB (floor, ceiling) per polarisation. The
# ceilings are the permissive end of the documented open-water levels (VV < -15..-18 dB, VH < -22..-24 dB;
# docs/domain-notes); a floor keeps a split inside the water class (windy or shallow water) from dropping
# most of the water. An image without open water has no dark mode: Otsu or Kittler-Illingworth then split
# dry land and return a threshold far above these levels.
WATER_DB_BOUNDS = {"vv": (-20.0, -15.0), "vh": (-27.0, -22.0), "single": (-20.0, -15.0)}


@dataclass(frozen=True)
class SarFloodConfig:
    """Bands, scale, speckle filter, thresholds and slope mask (user thresholds in dB, or DN for 8-bit)."""

    before_vv_band: BandSpec | None = None
    before_vh_band: BandSpec | None = None
    after_vv_band: BandSpec | None = None
    after_vh_band: BandSpec | None = None
    polarisation: str = "auto"
    scale: str = "auto"
    speckle_filter: str = "auto"
    window_px: int = 7
    threshold_method: str = "otsu"
    change_threshold_db: float = -3.0
    water_threshold_db: float = -18.0
    max_slope_deg: float = 5.0
    resampling: str = "bilinear"
    water_guard: bool = True  # automatic thresholds on dB data stay within WATER_DB_BOUNDS

    def __post_init__(self) -> None:
        if self.window_px < 1 or self.window_px % 2 == 0 or self.window_px > 31:
            raise ParameterError("The speckle filter window must be an odd number of pixels between 1 and 31.")
        if self.threshold_method not in ("otsu", "ki", "user"):
            raise ParameterError(f"Unknown threshold method '{self.threshold_method}'.")
        if not 0 < self.max_slope_deg <= 90:
            raise ParameterError("The maximum slope must be between 0 and 90 degrees.")


@dataclass(frozen=True)
class SarFloodOutputs:
    """Output paths; None means the output is not written."""

    classes: str | None = None
    measure: str | None = None


def _sar_bands(
    ds: gdal.Dataset, label: str, vv: BandSpec | None, vh: BandSpec | None, polarisation: str
) -> dict[str, int]:
    """Band index per polarisation to use: user choice, else band descriptions, else a single band."""
    found: dict[str, int] = {}
    for pol, choice, names in (("vv", vv, ("VV", "SIGMA0_VV", "VV_DB")), ("vh", vh, ("VH", "SIGMA0_VH", "VH_DB"))):
        if choice not in (None, "", 0):
            found[pol] = resolve_band(ds, choice, label)  # type: ignore[arg-type]
        else:
            index = find_band_by_name(ds, *names)
            if index is not None:
                found[pol] = index
    if not found:
        if ds.RasterCount == 1:
            return {"single": 1}
        raise BandNotFoundError(
            f"Cannot tell which band of the {label} is VV or VH (no band is named so): choose the bands."
        )
    wanted = {"auto": ("vv", "vh"), "both": ("vv", "vh"), "vv": ("vv",), "vh": ("vh",)}[polarisation]
    use = {p: found[p] for p in wanted if p in found}
    if not use or (polarisation == "both" and len(use) < 2):
        missing = ", ".join(p.upper() for p in wanted if p not in found)
        raise BandNotFoundError(f"The {label} has no {missing} band: choose it, or another polarisation.")
    return use


def _open_date(
    path: str, label: str, vv: BandSpec | None, vh: BandSpec | None, cfg: SarFloodConfig, log: Log
) -> tuple[gdal.Dataset, dict[str, int], str]:
    """Open one date, find its polarisation bands and check (or detect) their scale."""
    ds = open_raster(path)
    bands = _sar_bands(ds, label, vv, vh, cfg.polarisation)
    scales = {}
    for pol, index in bands.items():
        reader = BandReader(ds, index)
        check = detect_scale(reader, ds.GetRasterBand(index).DataType, cfg.scale, label)
        scales[pol] = check.scale
        name = "the only band" if pol == "single" else pol.upper()
        log(f"{label}: {name} = band {index} ({reader.name}); scale: {check.reason}.")
    if len(set(scales.values())) > 1:
        raise ParameterError(f"The {label}'s bands are in different scales ({scales}): choose the scale.")
    return ds, bands, next(iter(scales.values()))


def _filter_name(cfg: SarFloodConfig, scale: str) -> str:
    if cfg.speckle_filter != "auto":
        return cfg.speckle_filter
    return "median" if scale == "display8" else "refined_lee"


def run_sar_flood(
    before_path: str | None,
    after_path: str,
    outputs: SarFloodOutputs,
    dem_path: str | None = None,
    config: SarFloodConfig = SarFloodConfig(),
    progress: Progress = no_progress,
    log: Log = no_log,
) -> MapProduct:
    """Map flood extent block by block; thresholds come from a sample of the whole raster."""
    started = time.monotonic()
    after_ds, after_bands, scale = _open_date(
        after_path, "after image", config.after_vv_band, config.after_vh_band, config, log
    )
    change = before_path is not None
    if change:
        before_ds, before_bands, before_scale = _open_date(
            before_path, "before image", config.before_vv_band, config.before_vh_band, config, log
        )
        if before_scale != scale:
            raise ParameterError("The before and after images are in different scales: choose the input scale.")
        common = [p for p in after_bands if p in before_bands]
        if not common:
            raise BandNotFoundError("The before and after images share no polarisation: choose the bands.")
        aligned = align_pair(before_ds, after_ds, config.resampling)
        grid = aligned.grid
        readers = {f"{p}_before": BandReader(before_ds, before_bands[p], aligned.reference) for p in common}
        readers.update({f"{p}_after": BandReader(after_ds, after_bands[p], aligned.other) for p in common})
    else:
        common = list(after_bands)
        grid = grid_of(after_ds)
        readers = {f"{p}_after": BandReader(after_ds, after_bands[p]) for p in common}
    filt = _filter_name(config, scale)
    if filt == "refined_lee" and scale == "display8":
        log("Refined Lee needs calibrated intensities; the 8-bit display image is filtered with a focal median.")
        filt = "median"
    size = config.window_px if filt != "none" else 1
    halo = size // 2
    unit = "DN" if scale == "display8" else "dB"
    pols = " and ".join(p.upper() for p in common) if common != ["single"] else "the single band"
    how = f" (mean of the {unit} values)" if len(common) > 1 else ""
    log(f"Polarisation used: {pols}{how}; speckle filter: {filt} {size}x{size}.")

    def date_measure(arrays: Mapping[str, np.ndarray], hw: HaloWindow, date: str) -> np.ndarray:
        layers = [
            speckle_filter(pad_to_halo(to_db(arrays[f"{p}_{date}"], scale), hw, halo), filt, size, scale)
            for p in common
        ]
        return layers[0] if len(layers) == 1 else np.mean(layers, axis=0)

    def measures(arrays: Mapping[str, np.ndarray], hw: HaloWindow) -> dict[str, np.ndarray]:
        out = {"after": date_measure(arrays, hw, "after")}
        if change:
            out["before"] = date_measure(arrays, hw, "before")
            out["ratio"] = out["after"] - out["before"]
        return out

    keys = ("after", "before", "ratio") if change else ("after",)
    with scratch_folder([outputs.classes, outputs.measure]) as folder:
        stored, sampler = measure_pass(grid, readers, measures, keys, folder, sub_progress(progress, 0.0, 0.6), halo)
        if sampler.values("after").size == 0:
            raise EmptyDataError("The images have no valid pixel in common (all no data).")
        thresholds = _thresholds(config, sampler, change, unit, log, common)
        if dem_path:
            stored["slope"] = slope_reader(dem_path, grid, folder, log)
            log(f"Slopes steeper than {config.max_slope_deg:g} degrees are excluded from flooding.")
        measure_key = "ratio" if change else "after"
        measure_name = f"log-ratio after/before ({unit})" if change else f"after backscatter ({unit})"
        lo, hi = (-10.0, 10.0) if unit == "dB" else (-100.0, 100.0)
        if not change:
            lo, hi = (-30.0, 0.0) if unit == "dB" else (0.0, 255.0)
        specs = {
            "classes": outputs.classes
            and RasterOutput(outputs.classes, "Byte", FLOOD.nodata, "Flood extent (Sentinel-1)", FLOOD),
            "measure": outputs.measure
            and RasterOutput(
                outputs.measure,
                description=measure_name,
                qml=qml_pseudocolor(diverging_stops(lo, hi, f"{lo:g}", f"{hi:g}"), lo, hi),
            ),
        }
        stats = ClassStats(FLOOD)

        def classify(arrays: Mapping[str, np.ndarray], _hw: HaloWindow) -> dict[str, np.ndarray]:
            classes = flood_classes(
                arrays["after"],
                arrays.get("before"),
                arrays.get("ratio"),
                thresholds,
                arrays.get("slope"),
                config.max_slope_deg,
            )
            return {"classes": classes, "measure": arrays[measure_key]}

        with OutputSet(grid, {k: v or None for k, v in specs.items()}) as out:
            stream(grid, stored, classify, out, sub_progress(progress, 0.6, 1.0), {"classes": stats})
    return MapProduct(
        title="Flood extent (Sentinel-1)",
        class_raster=outputs.classes or "",
        scheme=FLOOD,
        stats=stats,
        measure_raster=outputs.measure,
        measure_name=measure_name,
        threshold=thresholds["change"] if change else thresholds["water_after"],
        inputs=tuple((k, v) for k, v in (("before", before_path), ("after", after_path), ("dem", dem_path)) if v),
        parameters=(
            ("polarisation", pols),
            ("scale", scale),
            ("speckle filter", f"{filt} {size}x{size}"),
            ("threshold method", method_label(config.threshold_method)),
            *((k, f"{v:.3f}") for k, v in thresholds.items()),
            ("max slope (deg)", f"{config.max_slope_deg:g}" if dem_path else "no DEM"),
        ),
        seconds=time.monotonic() - started,
    )


def plausible_water_threshold(value_db: float, polarisations: list[str]) -> tuple[float, str]:
    """An automatic water threshold (dB, the mean of ``polarisations``) held inside the plausible water levels.

    Returns the threshold to use and, when it was moved, one sentence saying why (else an empty string).
    """
    bounds = [WATER_DB_BOUNDS.get(p, WATER_DB_BOUNDS["single"]) for p in polarisations] or [WATER_DB_BOUNDS["single"]]
    floor = float(np.mean([b[0] for b in bounds]))
    ceiling = float(np.mean([b[1] for b in bounds]))
    if value_db > ceiling:
        return ceiling, (
            f"The automatic water threshold ({value_db:.2f} dB) is above any plausible open-water level "
            f"({ceiling:.1f} dB): the image has little or no open water, so {ceiling:.1f} dB is used."
        )
    if value_db < floor:
        return floor, (
            f"The automatic water threshold ({value_db:.2f} dB) is below the usual open-water levels "
            f"({floor:.1f} dB): it splits the water itself, so {floor:.1f} dB is used."
        )
    return value_db, ""


def _thresholds(
    config: SarFloodConfig, sampler: Sampler, change: bool, unit: str, log: Log, pols: list[str] | None = None
) -> dict[str, float]:
    """Water and change thresholds: automatic on the whole-raster sample, or the user's."""
    method = config.threshold_method
    after = sampler.values("after")
    if method == "user":
        out = {"water_after": config.water_threshold_db, "water_before": config.water_threshold_db}
        if change:
            out["change"] = config.change_threshold_db
    else:
        out = {"water_after": automatic_threshold(after, method)}
        if unit == "dB" and config.water_guard:
            out["water_after"], why = plausible_water_threshold(out["water_after"], pols or ["single"])
            if why:
                log(why)
        if change:
            # Calibrated data: water has the same backscatter on both dates, and the after image (with the
            # flood) holds the larger water class, so its threshold serves both. Display images are stretched
            # per image and need their own.
            out["water_before"] = (
                automatic_threshold(sampler.values("before"), method) if unit == "DN" else out["water_after"]
            )
            drop = automatic_threshold(sampler.values("ratio"), method)
            if drop > 0.0:
                log(f"The automatic change threshold ({drop:.2f} {unit}) is not a decrease; 0 is used.")
            out["change"] = min(drop, 0.0)
    if change:
        median = float(np.median(after))
        out["relaxed_water_after"] = out["water_after"] + 0.5 * max(median - out["water_after"], 0.0)
    label = method_label(method)
    log(f"Water threshold on the after image: {out['water_after']:.2f} {unit} ({label}).")
    if change:
        log(f"Water threshold on the before image: {out['water_before']:.2f} {unit} ({label}).")
        log(
            f"Change threshold on the log-ratio: {out['change']:.2f} {unit} ({label}); a drop below it counts as "
            f"flooding where the after value is also below {out['relaxed_water_after']:.2f} {unit}."
        )
    return out


def flood_classes(
    after: np.ndarray,
    before: np.ndarray | None,
    ratio: np.ndarray | None,
    thresholds: Mapping[str, float],
    slope: np.ndarray | None = None,
    max_slope_deg: float = 5.0,
) -> np.ndarray:
    """Class per pixel: 1 not flooded, 2 flooded, 3 permanent water, 0 no data."""
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
    classes = np.where(flooded, 2, np.where(permanent, 3, 1)).astype(np.uint8)
    if slope is not None:
        steep = np.nan_to_num(slope, nan=0.0) > max_slope_deg  # outside the DEM: no slope mask
        classes[steep & (classes == 2)] = 1
    classes[~valid] = FLOOD.nodata
    return classes
