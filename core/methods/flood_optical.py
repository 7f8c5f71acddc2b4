"""Flood extent from optical images (Sentinel-2, Landsat 8/9): NDWI or MNDWI water, new vs permanent.

Water = index above a threshold (Otsu / Kittler-Illingworth on a sample of the
whole raster, or the user's, textbook 0). New water (flooded) = water after
that was not water before; permanent = water on both dates. Cloud, shadow,
cirrus and snow from a Sentinel-2 SCL band are masked as no data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from osgeo import gdal

from ..engine.measure import measure_pass, scratch_folder
from ..engine.stream import ClassStats, stream
from ..engine.threshold import automatic_threshold, method_label
from ..errors import EmptyDataError, ParameterError
from ..io.grid import align_pair, grid_of, warp_to_grid
from ..io.pair import Log, no_log
from ..io.raster import BandReader, BandSpec, Radiometry, find_band_by_name, open_raster, resolve_band
from ..io.sensors import choose_radiometry, detect_sensor, find_role, normalized_difference
from ..io.windows import HaloWindow
from ..outputs.products import MapProduct
from ..outputs.styles import diverging_stops, qml_pseudocolor
from ..outputs.writer import OutputSet, RasterOutput
from ..progress import Progress, no_progress, sub_progress
from .flood_sar import FLOOD

WATER_INDICES = (
    ("auto", "Automatic (MNDWI when a SWIR1 band exists, else NDWI)"),
    ("mndwi", "MNDWI (green, SWIR1)"),
    ("ndwi", "NDWI (green, NIR)"),
)
CLOUD_MASKS = (("auto", "Use the SCL band when the image has one"), ("none", "No cloud mask"))
# Sentinel-2 SCL classes masked as no data: no data, defective, cloud shadow, cloud medium/high, cirrus, snow.
SCL_MASKED = (0, 1, 3, 8, 9, 10, 11)


@dataclass(frozen=True)
class OpticalFloodConfig:
    """Index, bands (None = detect), threshold and cloud mask."""

    index: str = "auto"
    before_green_band: BandSpec | None = None
    before_other_band: BandSpec | None = None
    after_green_band: BandSpec | None = None
    after_other_band: BandSpec | None = None
    before_scl_band: BandSpec | None = None
    after_scl_band: BandSpec | None = None
    cloud_mask: str = "auto"
    threshold_method: str = "otsu"
    user_threshold: float = 0.0
    radiometry: str = "auto"
    custom_scale: float = 1.0
    custom_offset: float = 0.0
    resampling: str = "bilinear"

    def __post_init__(self) -> None:
        if self.index not in dict(WATER_INDICES):
            raise ParameterError(f"Unknown water index '{self.index}'.")
        if self.threshold_method not in ("otsu", "ki", "user"):
            raise ParameterError(f"Unknown threshold method '{self.threshold_method}'.")
        if not -1.0 <= self.user_threshold <= 1.0:
            raise ParameterError("The water index threshold must be between -1 and 1.")


@dataclass(frozen=True)
class OpticalFloodOutputs:
    """Output paths; None means the output is not written."""

    classes: str | None = None
    index_after: str | None = None


def _choose_index(ds: gdal.Dataset, choice: str, user_band: BandSpec | None) -> str:
    if choice != "auto":
        return choice
    profile = detect_sensor(ds)
    if user_band not in (None, "", 0) or find_band_by_name(ds, *profile.candidates("swir1")) is not None:
        return "mndwi"
    return "ndwi"


def _date_readers(
    ds: gdal.Dataset,
    view: gdal.Dataset | None,
    scl_view: gdal.Dataset | None,
    label: str,
    key: str,
    other_role: str,
    bands: tuple[BandSpec | None, BandSpec | None, BandSpec | None],
    config: OpticalFloodConfig,
    log: Log,
) -> dict[str, BandReader]:
    """Readers for green, the other index band and (optionally) SCL of one date."""
    profile = detect_sensor(ds)
    custom = Radiometry(config.custom_scale, config.custom_offset)
    readers: dict[str, BandReader] = {}
    used = []
    for role, choice in (("green", bands[0]), (other_role, bands[1])):
        index = find_role(ds, profile, role, choice, label)
        rad = choose_radiometry(ds, index, profile, config.radiometry, custom)
        reader_key = f"{'green' if role == 'green' else 'other'}_{key}"
        readers[reader_key] = BandReader(ds, index, view, rad)
        used.append(f"{role.upper()} = band {index} ({readers[reader_key].name})")
    log(f"{label} ({profile.label}): {', '.join(used)}; reflectance: {rad.source}.")
    if config.cloud_mask != "none":
        scl = (
            resolve_band(ds, bands[2], label)  # type: ignore[arg-type]
            if bands[2] not in (None, "", 0)
            else find_band_by_name(ds, "SCL")
        )
        if scl is not None:
            readers[f"scl_{key}"] = BandReader(ds, scl, scl_view, Radiometry(1.0, 0.0, "class codes"))
            log(f"{label}: cloud mask from band {scl} (SCL classes {', '.join(map(str, SCL_MASKED))} masked).")
        else:
            log(f"{label}: no SCL band, no cloud mask.")
    return readers


def _masked_index(arrays: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    index = normalized_difference(arrays[f"green_{key}"], arrays[f"other_{key}"])
    scl = arrays.get(f"scl_{key}")
    if scl is not None:
        index[np.isin(np.nan_to_num(scl, nan=0).astype(np.int16), SCL_MASKED)] = np.nan
    return index


def run_optical_flood(
    before_path: str | None,
    after_path: str,
    outputs: OpticalFloodOutputs,
    config: OpticalFloodConfig = OpticalFloodConfig(),
    progress: Progress = no_progress,
    log: Log = no_log,
) -> MapProduct:
    """Map new and permanent water from a water index; one threshold for both dates."""
    started = time.monotonic()
    after_ds = open_raster(after_path)
    index_name = _choose_index(after_ds, config.index, config.after_other_band)
    other_role = "swir1" if index_name == "mndwi" else "nir"
    log(f"Water index: {index_name.upper()} = (green - {other_role.upper()}) / (green + {other_role.upper()}).")
    change = before_path is not None
    after_bands = (config.after_green_band, config.after_other_band, config.after_scl_band)
    if change:
        before_ds = open_raster(before_path)
        aligned = align_pair(before_ds, after_ds, config.resampling)
        grid = aligned.grid
        readers = _date_readers(
            before_ds,
            aligned.reference,
            aligned.reference,
            "before image",
            "before",
            other_role,
            (config.before_green_band, config.before_other_band, config.before_scl_band),
            config,
            log,
        )
        scl_view = warp_to_grid(after_ds, grid, "nearest")
        readers.update(
            _date_readers(
                after_ds, aligned.other, scl_view, "after image", "after", other_role, after_bands, config, log
            )
        )
    else:
        grid = grid_of(after_ds)
        readers = _date_readers(after_ds, None, None, "after image", "after", other_role, after_bands, config, log)

    def measures(arrays: Mapping[str, np.ndarray], _hw: HaloWindow) -> dict[str, np.ndarray]:
        out = {"after": _masked_index(arrays, "after")}
        if change:
            out["before"] = _masked_index(arrays, "before")
        return out

    keys = ("after", "before") if change else ("after",)
    with scratch_folder([outputs.classes, outputs.index_after]) as folder:
        stored, sampler = measure_pass(grid, readers, measures, keys, folder, sub_progress(progress, 0.0, 0.5))
        sample = np.concatenate([sampler.values(k) for k in keys])
        if sampler.values("after").size == 0:
            raise EmptyDataError("The after image has no valid (cloud-free) pixel where both images overlap.")
        if config.threshold_method == "user":
            threshold = config.user_threshold
        else:
            threshold = automatic_threshold(sample, config.threshold_method)
        where = "both dates" if change else "the after image"
        log(
            f"Water threshold: {index_name.upper()} > {threshold:.3f} "
            f"({method_label(config.threshold_method)}, {where})."
        )
        specs = {
            "classes": outputs.classes
            and RasterOutput(outputs.classes, "Byte", FLOOD.nodata, f"Flood extent ({index_name.upper()})", FLOOD),
            "index": outputs.index_after
            and RasterOutput(
                outputs.index_after,
                description=f"{index_name.upper()} after",
                qml=qml_pseudocolor(diverging_stops(-1.0, 1.0, "-1 (dry)", "1 (water)"), -1.0, 1.0),
            ),
        }
        stats = ClassStats(FLOOD)

        def classify(arrays: Mapping[str, np.ndarray], _hw: HaloWindow) -> dict[str, np.ndarray]:
            return {
                "classes": water_classes(arrays["after"], arrays.get("before"), threshold),
                "index": arrays["after"],
            }

        with OutputSet(grid, {k: v or None for k, v in specs.items()}) as out:
            stream(grid, stored, classify, out, sub_progress(progress, 0.5, 1.0), {"classes": stats})
    return MapProduct(
        title=f"Flood extent ({index_name.upper()})",
        class_raster=outputs.classes or "",
        scheme=FLOOD,
        stats=stats,
        measure_raster=outputs.index_after,
        measure_name=f"{index_name.upper()} after",
        threshold=threshold,
        inputs=tuple((k, v) for k, v in (("before", before_path), ("after", after_path)) if v),
        parameters=(
            ("index", index_name.upper()),
            ("threshold method", method_label(config.threshold_method)),
            ("threshold", f"{threshold:.3f}"),
            ("cloud mask", config.cloud_mask),
        ),
        seconds=time.monotonic() - started,
    )


def water_classes(after: np.ndarray, before: np.ndarray | None, threshold: float) -> np.ndarray:
    """Class per pixel: 1 not flooded, 2 flooded (new water), 3 permanent water, 0 no data."""
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
    classes = np.where(flooded, 2, np.where(permanent, 3, 1)).astype(np.uint8)
    classes[~valid] = FLOOD.nodata
    return classes
