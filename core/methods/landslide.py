"""New landslides from before/after optical images and a DEM: NDVI drop, brightening, steep slope.

A pixel is a candidate when NDVI drops by at least ``ndvi_drop``, visible
brightness (mean of red and green reflectance) rises by at least
``brightness_increase`` and the terrain is steeper than ``min_slope_deg``.
Patches smaller than ``min_area_m2`` are removed (GDAL sieve, 8-connected).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..engine.measure import scratch_folder
from ..engine.stream import ClassStats, stream
from ..errors import ParameterError
from ..io.grid import centre_pixel_area_m2
from ..io.pair import DateInput, Log, no_log, open_pair
from ..io.raster import BandReader, BandSpec, Radiometry, all_finite, open_raster
from ..io.sensors import normalized_difference
from ..io.terrain import slope_reader
from ..io.windows import HaloWindow
from ..outputs.products import MapProduct
from ..outputs.styles import diverging_stops, qml_pseudocolor
from ..outputs.vectorize import sieve_classes
from ..outputs.writer import OutputSet, RasterOutput
from ..progress import Progress, no_progress, report, sub_progress

LANDSLIDE = ClassScheme(
    (ClassInfo(1, "No landslide", "#d9d9d9", background=True), ClassInfo(2, "New landslide", "#c2410c")),
    nodata=0,
)


@dataclass(frozen=True)
class LandslideConfig:
    """Bands (None = detect), thresholds and minimum mapping unit."""

    before_red_band: BandSpec | None = None
    before_nir_band: BandSpec | None = None
    before_green_band: BandSpec | None = None
    after_red_band: BandSpec | None = None
    after_nir_band: BandSpec | None = None
    after_green_band: BandSpec | None = None
    ndvi_drop: float = 0.2
    brightness_increase: float = 0.02
    min_slope_deg: float = 10.0
    min_area_m2: float = 500.0
    radiometry: str = "auto"
    custom_scale: float = 1.0
    custom_offset: float = 0.0
    resampling: str = "bilinear"

    def __post_init__(self) -> None:
        if not 0.0 < self.ndvi_drop <= 2.0:
            raise ParameterError("The NDVI drop must be between 0 and 2.")
        if not 0.0 <= self.min_slope_deg < 90.0:
            raise ParameterError("The minimum slope must be between 0 and 90 degrees.")
        if self.min_area_m2 < 0:
            raise ParameterError("The minimum area must not be negative.")


@dataclass(frozen=True)
class LandslideOutputs:
    """Output paths; None means the output is not written."""

    classes: str | None = None
    ndvi_drop: str | None = None


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
    """(classes before the area filter, NDVI drop) per pixel; class 0 where any input is missing."""
    drop = normalized_difference(nir0, red0) - normalized_difference(nir1, red1)
    brighter = ((red1 + green1) - (red0 + green0)) / 2.0
    valid = all_finite([drop, brighter])
    hit = (drop >= config.ndvi_drop) & (brighter >= config.brightness_increase)
    hit &= np.nan_to_num(slope, nan=0.0) >= config.min_slope_deg
    classes = np.where(hit, 2, 1).astype(np.uint8)
    classes[~valid] = LANDSLIDE.nodata
    drop[~valid] = np.nan
    return classes, drop


def run_landslide(
    before_path: str,
    after_path: str,
    dem_path: str,
    outputs: LandslideOutputs,
    config: LandslideConfig = LandslideConfig(),
    progress: Progress = no_progress,
    log: Log = no_log,
) -> MapProduct:
    """Map new landslides; the area filter runs on a temporary raster, then classes are written with areas."""
    started = time.monotonic()
    c = config
    pair = open_pair(
        DateInput(
            before_path,
            "before image",
            {"red": c.before_red_band, "nir": c.before_nir_band, "green": c.before_green_band},
        ),
        DateInput(
            after_path, "after image", {"red": c.after_red_band, "nir": c.after_nir_band, "green": c.after_green_band}
        ),
        ("red", "nir", "green"),
        "landslide mapping (red, NIR and green)",
        c.radiometry,
        Radiometry(c.custom_scale, c.custom_offset),
        c.resampling,
        log,
    )
    grid = pair.aligned.grid
    log(
        f"Candidates: NDVI drop >= {c.ndvi_drop:g}, visible brightness increase >= {c.brightness_increase:g}, "
        f"slope >= {c.min_slope_deg:g} degrees; patches under {c.min_area_m2:g} m2 removed."
    )
    with scratch_folder([outputs.classes, outputs.ndvi_drop]) as folder:
        readers: dict[str, BandReader] = dict(pair.readers)
        readers["slope"] = slope_reader(dem_path, grid, folder, log)
        raw_path = os.path.join(folder, "raw.tif")
        drop_path = os.path.join(folder, "drop.tif")

        def candidates(arrays: Mapping[str, np.ndarray], _hw: HaloWindow) -> dict[str, np.ndarray]:
            a = arrays
            classes, drop = landslide_candidates(
                a["red_before"],
                a["nir_before"],
                a["green_before"],
                a["red_after"],
                a["nir_after"],
                a["green_after"],
                a["slope"],
                c,
            )
            return {"raw": classes, "drop": drop}

        specs = {"raw": RasterOutput(raw_path, "Byte", 0), "drop": RasterOutput(drop_path)}
        with OutputSet(grid, dict(specs)) as out:
            stream(grid, readers, candidates, out, sub_progress(progress, 0.0, 0.6))
        pixel_m2 = centre_pixel_area_m2(grid)
        min_px = math.ceil(c.min_area_m2 / pixel_m2 - 1e-9) if pixel_m2 > 0 else 0  # as the mapping unit
        if min_px > 1:
            log(f"Minimum area {c.min_area_m2:g} m2 = {min_px} pixels (8-connected patches).")
            sieved_path = os.path.join(folder, "sieved.tif")
            sieve_classes(open_raster(raw_path), sieved_path, min_px, True, sub_progress(progress, 0.6, 0.7))
            raw_path = sieved_path
        report(progress, 0.7)
        stored = {"raw": BandReader(open_raster(raw_path), 1), "drop": BandReader(open_raster(drop_path), 1)}
        final = {
            "classes": outputs.classes
            and RasterOutput(outputs.classes, "Byte", LANDSLIDE.nodata, "New landslides", LANDSLIDE),
            "drop": outputs.ndvi_drop
            and RasterOutput(
                outputs.ndvi_drop,
                description="NDVI drop (before - after)",
                qml=qml_pseudocolor(diverging_stops(-0.5, 0.5, "-0.5 (greening)", "0.5 (loss)"), -0.5, 0.5),
            ),
        }
        stats = ClassStats(LANDSLIDE)

        def copy(arrays: Mapping[str, np.ndarray], _hw: HaloWindow) -> dict[str, np.ndarray]:
            return {"classes": np.nan_to_num(arrays["raw"], nan=0).astype(np.uint8), "drop": arrays["drop"]}

        with OutputSet(grid, {k: v or None for k, v in final.items()}) as out:
            stream(grid, stored, copy, out, sub_progress(progress, 0.7, 1.0), {"classes": stats})
    return MapProduct(
        title="New landslides",
        class_raster=outputs.classes or "",
        scheme=LANDSLIDE,
        stats=stats,
        measure_raster=outputs.ndvi_drop,
        measure_name="NDVI drop",
        threshold=c.ndvi_drop,
        inputs=(("before", before_path), ("after", after_path), ("dem", dem_path)),
        parameters=(
            ("NDVI drop >=", f"{c.ndvi_drop:g}"),
            ("brightness increase >=", f"{c.brightness_increase:g}"),
            ("min slope (deg)", f"{c.min_slope_deg:g}"),
            ("min area (m2)", f"{c.min_area_m2:g}"),
        ),
        seconds=time.monotonic() - started,
    )
