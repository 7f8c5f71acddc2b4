"""Opening a before/after pair: validation, band roles and a common grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from osgeo import gdal

from .grid import AlignedPair, align_pair
from .raster import BandReader, BandSpec, Radiometry, open_raster, require_bands
from .sensors import (
    SENTINEL2,
    SensorProfile,
    choose_radiometry,
    detect_sensor,
    find_role,
    s2_level,
    s2_native_resolution_m,
)

Log = Callable[[str], None]


def no_log(_message: str) -> None:
    """A log sink that drops messages."""


@dataclass(frozen=True)
class DateInput:
    """One date of a pair: its path and the user's band choices per role (None = detect)."""

    path: str
    label: str
    bands: Mapping[str, BandSpec | None]


@dataclass
class OpenedPair:
    """Both dates opened and aligned, with one reader per (date, role)."""

    aligned: AlignedPair
    readers: dict[str, BandReader]
    profiles: dict[str, SensorProfile]


def open_date(date: DateInput, min_bands: int, purpose: str) -> gdal.Dataset:
    """Open one date and check it has enough bands for ``purpose``."""
    ds = open_raster(date.path)
    require_bands(ds, min_bands, date.label, purpose)
    return ds


def open_pair(
    before: DateInput,
    after: DateInput,
    roles: tuple[str, ...],
    purpose: str,
    radiometry: str = "auto",
    custom: Radiometry | None = None,
    resampling: str = "bilinear",
    log: Log = no_log,
) -> OpenedPair:
    """Validate both dates, find each role's band, align ``after`` onto ``before``.

    Reader keys are ``"<role>_before"`` and ``"<role>_after"``.
    """
    min_bands = len(roles)
    datasets = {"before": open_date(before, min_bands, purpose), "after": open_date(after, min_bands, purpose)}
    dates = {"before": before, "after": after}
    indices: dict[str, dict[str, int]] = {}
    profiles: dict[str, SensorProfile] = {}
    for key, ds in datasets.items():
        profile = detect_sensor(ds)
        profiles[key] = profile
        indices[key] = {
            role: find_role(ds, profile, role, dates[key].bands.get(role), dates[key].label) for role in roles
        }
    aligned = align_pair(datasets["before"], datasets["after"], resampling)
    views = {"before": aligned.reference, "after": aligned.other}
    readers: dict[str, BandReader] = {}
    for key, ds in datasets.items():
        used, sources = [], []
        for role, index in indices[key].items():
            rad = choose_radiometry(ds, index, profiles[key], radiometry, custom)
            readers[f"{role}_{key}"] = BandReader(ds, index, views[key], rad)
            name = readers[f"{role}_{key}"].name
            native = s2_native_resolution_m(name) if profiles[key] is SENTINEL2 else None
            used.append(f"{role.upper()} = band {index} ({name}{f', {native} m native' if native else ''})")
            if rad.source not in sources:  # bands may differ (e.g. only one carries a scale/offset)
                sources.append(rad.source)
        level = s2_level(ds) if profiles[key] is SENTINEL2 else None
        sensor = f"{profiles[key].label} {level}" if level else profiles[key].label
        log(f"{dates[key].label} ({sensor}): {', '.join(used)}; reflectance: {'; '.join(sources)}.")
    grid = aligned.grid
    log(
        f"Common grid: {grid.width_px} x {grid.height_px} pixels of {grid.pixel_width:g} x {grid.pixel_height:g} "
        f"(the {before.label}'s grid cropped to the overlap)."
    )
    return OpenedPair(aligned, readers, profiles)
