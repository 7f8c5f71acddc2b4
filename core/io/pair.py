"""Opening the dates of a run: validation, band roles, radiometry and one common grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from osgeo import gdal

from ..progress import Log, no_log
from .grid import Grid, align_many, warp_to_grid
from .raster import BandReader, BandSpec, Radiometry, open_raster, require_bands
from .sensors import (
    SENTINEL2,
    SensorProfile,
    choose_radiometry,
    detect_sensor,
    find_band_for_role,
    find_role,
    s2_level,
    s2_native_resolution_m,
)

# Roles whose values are class codes: never converted to reflectance, resampled with nearest.
CODE_ROLES = ("scl", "qa")


@dataclass(frozen=True)
class DateInput:
    """One date: its path, how messages name it, the user's band per role (None = detect).

    ``key`` names the date in reader keys (``"<role>_<key>"``); ``optional_roles`` may be
    missing from the image (they are read when found, skipped otherwise).
    """

    path: str
    label: str
    bands: Mapping[str, BandSpec | None]
    key: str = ""
    roles: tuple[str, ...] = ()
    optional_roles: tuple[str, ...] = ()


@dataclass
class OpenedDates:
    """The dates opened and aligned on the first one's grid, cropped to the area all share.

    ``readers`` maps ``"<role>_<key>"`` to a reader on ``grid``; ``used`` holds one line per
    date saying which bands and conversions were chosen.
    """

    grid: Grid
    readers: dict[str, BandReader]
    profiles: dict[str, SensorProfile]
    used: list[tuple[str, str]] = field(default_factory=list)
    datasets: list[gdal.Dataset] = field(default_factory=list)


def open_date(date: DateInput, min_bands: int, purpose: str) -> gdal.Dataset:
    """Open one date and check it has at least ``min_bands`` bands for ``purpose``.

    Raises :class:`~changelens.core.errors.NotARasterError` or
    :class:`~changelens.core.errors.BandCountError`.
    """
    ds = open_raster(date.path)
    require_bands(ds, min_bands, date.label, purpose)
    return ds


def _describe(date: DateInput, profile: SensorProfile, ds: gdal.Dataset, used: list[str], sources: list[str]) -> str:
    level = s2_level(ds) if profile is SENTINEL2 else None
    sensor = f"{profile.label} {level}" if level else profile.label
    return f"{date.label} ({sensor}): {', '.join(used)}; reflectance: {'; '.join(sources) or 'not converted'}."


def open_dates(
    dates: Sequence[DateInput],
    purpose: str,
    radiometry: str = "auto",
    custom: Radiometry | None = None,
    resampling: str = "bilinear",
    log: Log = no_log,
) -> OpenedDates:
    """Validate every date, find each role's band, and put all dates on the first one's grid.

    Reflectance conversion follows ``radiometry`` (a key of ``RADIOMETRY_CHOICES``) for each
    band; class-code roles (SCL, QA) are read as stored and resampled with nearest. Raises
    :class:`~changelens.core.errors.InputError` subclasses (band missing, too few bands, no
    overlap) before any pixel is processed.
    """
    datasets = [open_date(d, len(d.roles) - len(d.optional_roles), purpose) for d in dates]
    grid, reference_view, others = align_many(datasets[0], datasets[1:], resampling)
    views = [reference_view, *others]
    readers: dict[str, BandReader] = {}
    profiles: dict[str, SensorProfile] = {}
    opened = OpenedDates(grid, readers, profiles, datasets=list(datasets))
    for date, ds, view in zip(dates, datasets, views):
        profile = detect_sensor(ds)
        profiles[date.key] = profile
        used: list[str] = []
        sources: list[str] = []
        for role in date.roles:
            choice = date.bands.get(role)
            if role in date.optional_roles:
                index = find_band_for_role(ds, profile, role, choice, date.label)
                if index is None:
                    continue
            else:
                index = find_role(ds, profile, role, choice, date.label)
            if role in CODE_ROLES:
                codes = view if view is ds else warp_to_grid(ds, grid, "nearest")
                opened.datasets.append(codes)
                reader = BandReader(ds, index, codes, Radiometry(1.0, 0.0, "class codes"))
            else:
                rad = choose_radiometry(ds, index, profile, radiometry, custom)
                reader = BandReader(ds, index, view, rad)
                if rad.source not in sources:  # bands may differ (e.g. only one carries a scale/offset)
                    sources.append(rad.source)
            readers[f"{role}_{date.key}"] = reader
            native = s2_native_resolution_m(reader.name) if profile is SENTINEL2 else None
            used.append(f"{role.upper()} = band {index} ({reader.name}{f', {native} m native' if native else ''})")
        line = _describe(date, profile, ds, used, sources)
        opened.used.append((date.label, line))
        log(line)
    if len(dates) > 1:
        log(
            f"Common grid: {grid.width_px} x {grid.height_px} pixels of {grid.pixel_width:g} x {grid.pixel_height:g} "
            f"(the {dates[0].label}'s grid cropped to the overlap)."
        )
    return opened


def open_pair(
    before: DateInput,
    after: DateInput,
    roles: tuple[str, ...],
    purpose: str,
    radiometry: str = "auto",
    custom: Radiometry | None = None,
    resampling: str = "bilinear",
    log: Log = no_log,
) -> OpenedDates:
    """Two dates with the same ``roles``; reader keys ``"<role>_before"`` and ``"<role>_after"``."""
    dates = [
        DateInput(d.path, d.label, d.bands, key, roles, d.optional_roles)
        for d, key in ((before, "before"), (after, "after"))
    ]
    return open_dates(dates, purpose, radiometry, custom, resampling, log)
