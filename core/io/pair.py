"""Opening the dates of a run: validation, band roles, radiometry and one common grid."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np
from osgeo import gdal

from ..errors import EmptyDataError
from ..progress import Log, no_log, recording
from .cloudmask import ROLES as CSMASK_ROLES
from .datemask import CsmaskInputs, date_cloud_mask
from .georef import georeferenced
from .grid import Grid, align_many, grid_of_overlap, warp_to_grid
from .products import ProductInfo, product_info
from .radiometry import (
    check_fixed_conversion,
    check_plausible,
    decide_radiometry,
    offset_ruled_out,
    own_radiometry,
    s2_offset_of,
)
from .raster import BandReader, BandSpec, Radiometry, band_names, require_bands
from .sensors import (
    SENTINEL1,
    SENTINEL2,
    SensorProfile,
    detect_sensor,
    find_band_for_role,
    find_role,
    s2_level,
    s2_native_resolution_m,
    sensor_label,
)
from .stack import open_date_raster, stack_for_roles
from .validity import DateValidity, date_validity

S2_BAND = re.compile(r"^B0?(\d{1,2})A?$", re.I)  # a Sentinel-2 reflectance band (not TCI, SCL ...)
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
    radiometry: str = "same"  # this date's conversion ("same": the run's)
    pixel_aligned: bool = False  # the user says the dates share one pixel grid (no georeferencing needed)
    cloud_mask: str = "auto"  # "auto" (the file's own mask), "none" or "csmask" (else ukis-csmask's)


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


def open_date(
    date: DateInput, min_bands: int, purpose: str, resampling: str = "bilinear", log: Log = no_log
) -> gdal.Dataset:
    """Open one date on a ground grid and check it has at least ``min_bands`` bands for ``purpose``.

    A GCP-only raster is warped through its GCPs (:func:`georeferenced`). Raises
    :class:`~changelens.core.errors.NotARasterError`, :class:`~changelens.core.errors.BandCountError`
    or :class:`~changelens.core.errors.InputError` (no georeferencing at all).
    """
    ds = open_date_raster(date.path, date.label)
    require_bands(ds, min_bands, date.label, purpose)
    return georeferenced(ds, date.label, date.pixel_aligned, resampling, log)


@dataclass
class DatePlan:
    """One date decided before any pixel is processed: its sensor, bands per role, fills and conversions."""

    date: DateInput
    ds: gdal.Dataset
    info: ProductInfo
    profile: SensorProfile
    indices: dict[str, int]
    validity: DateValidity
    conversions: dict[int, Radiometry]

    def line(self) -> str:
        """What was decided for this date, in one log line."""
        level = self.info.level or (s2_level(self.ds) if self.profile is SENTINEL2 else "") or ""
        sensor = sensor_label(self.profile, level)
        used = []
        for role, index in self.indices.items():
            if not band_names(self.ds, index):
                used.append(f"{role.upper()} = band {index} (unnamed: taken by its number)")
                continue
            name = _name(self.ds, index)
            native = s2_native_resolution_m(name) if self.profile is SENTINEL2 else None
            used.append(f"{role.upper()} = band {index} ({name}{f', {native} m native' if native else ''})")
        sources = list(dict.fromkeys(r.source for r in self.conversions.values()))
        text = f"{self.date.label} ({sensor}): {', '.join(used)}; reflectance: {'; '.join(sources) or 'not converted'}"
        if self.info.acquired:
            text += f"; acquired {self.info.acquired}"
        if self.validity.notes:
            text += f"; no data: {', '.join(self.validity.notes)}"
        return text + "."


def _name(ds: gdal.Dataset, index: int) -> str:
    names = band_names(ds, index)
    return names[0] if names else f"band {index}"


def date_bands(date: DateInput, ds: gdal.Dataset) -> tuple[ProductInfo, SensorProfile, dict[str, int]]:
    """Product facts, sensor and the band of each role of one date (structural checks only).

    Raises :class:`~changelens.core.errors.BandNotFoundError` when a required role has no band.
    """
    info = product_info(ds)
    profile = detect_sensor(ds, info)
    indices: dict[str, int] = {}
    for role in date.roles:
        choice = date.bands.get(role)
        if role in date.optional_roles:
            index = find_band_for_role(ds, profile, role, choice, date.label)
            if index is None:
                continue
        else:
            index = find_role(ds, profile, role, choice, date.label)
        indices[role] = index
    return info, profile, indices


def require_valid(
    samples: Mapping[int, np.ndarray], names: Mapping[int, str], label: str, reflectance: bool = True
) -> None:
    """Raise :class:`EmptyDataError` when a band read for a role has no valid pixel, or (a ``reflectance``
    band) holds only 0: a failed export of that band, which would be read as black (NBR -1 everywhere).

    ``samples`` map a 1-based band to its raw valid values (1-D, any dtype); ``names`` name the bands.
    """
    for index, raw in samples.items():
        band = names.get(index) or f"band {index}"
        if raw.size == 0:
            raise EmptyDataError(
                f"The {label} has no valid pixel in {band} (everything is no data or a fill value): check the file "
                "or choose another band."
            )
        if reflectance and not raw.any():
            raise EmptyDataError(
                f"The {label}'s {band} holds only 0 (an empty or failed export of that band): check the file or "
                "choose another band."
            )


def plan_date(
    date: DateInput,
    ds: gdal.Dataset,
    radiometry: str,
    custom: Radiometry | None,
    convert: bool = True,
    found: tuple[ProductInfo, SensorProfile, dict[str, int]] | None = None,
) -> DatePlan:
    """Decide one date: product facts, sensor, the band of each role, no-data rules and conversions.

    With ``convert`` False (values used as stored, e.g. a model trained on DNs) only the no-data
    rules are decided; ``found`` is :func:`date_bands`'s answer when it was already asked. Raises
    :class:`~changelens.core.errors.InputError` subclasses (a band missing, the sensor generation
    or the conversion undecidable, implausible reflectance) before any output.
    """
    info, profile, indices = found or date_bands(date, ds)
    codes = [i for r, i in indices.items() if r in CODE_ROLES]
    optical = [i for r, i in indices.items() if r not in CODE_ROLES]
    validity = date_validity(ds, list(indices.values()), profile.key, info, codes)
    choice = date.radiometry if date.radiometry not in ("", "same") else radiometry
    names = {i: _name(ds, i) for i in optical}
    samples = {i: validity.samples[i] for i in optical}
    require_valid(samples, names, date.label, convert)
    if not convert:
        stored = {i: Radiometry(1.0, 0.0, "values as stored") for i in optical}
        return DatePlan(date, ds, info, profile, indices, validity, stored)

    def other_bands() -> list[np.ndarray]:
        """Raw valid values of the file's other Sentinel-2 bands (same product, same offset)."""
        others = [i for i in range(1, ds.RasterCount + 1) if i not in optical and S2_BAND.match(_name(ds, i))]
        extra = date_validity(ds, others, profile.key, info)
        return list(extra.samples.values())

    conversions = decide_radiometry(
        profile.key, info, samples, names, own_radiometry(ds, optical), choice, custom, date.label, other_bands
    )
    check_plausible(samples, conversions, names, date.label, automatic=choice == "auto")
    return DatePlan(date, ds, info, profile, indices, validity, conversions)


def _rules_offset_out(plan: DatePlan) -> bool:
    """Whether the raw values of a date's converted bands cannot carry the Sentinel-2 +1000 DN offset."""
    return bool(offset_ruled_out([plan.validity.samples[i] for i in plan.conversions if i in plan.validity.samples]))


def check_plan_conversions(radiometry: str, plans: Sequence[DatePlan]) -> None:
    """:func:`~.radiometry.check_fixed_conversion` on decided dates (raises ``ParameterError``)."""
    facts = [
        (p.date.label, p.date.radiometry, p.info, s2_offset_of(p.conversions), _rules_offset_out(p)) for p in plans
    ]
    check_fixed_conversion(radiometry, facts)


def no_data_rules(ds: gdal.Dataset, indices: Sequence[int]) -> DateValidity:
    """:func:`date_validity` of the bands ``indices`` with the sensor and product read from ``ds`` itself
    (for methods that compare bands as stored and need no reflectance conversion)."""
    info = product_info(ds)
    return date_validity(ds, indices, detect_sensor(ds, info).key, info)


def _warp_nodata(plan: DatePlan) -> float | None:
    """The one raw value a warp of this date should skip, when every band read shares it."""
    primaries = {plan.validity.fills[i].primary for i in plan.indices.values()}
    return primaries.pop() if len(primaries) == 1 else None


def product_date(date: DateInput, scratch: str | None, resampling: str, log: Log = no_log) -> DateInput:
    """``date`` itself, or, when its path is a product (SAFE, Landsat folder, band folder or list), the same
    date read from a stack of the bands its roles need (:mod:`.stack`), band choices turned into names."""
    extra = CSMASK_ROLES if date.cloud_mask == "csmask" else ()
    built = stack_for_roles(
        date.path,
        date.roles,
        date.optional_roles,
        date.bands,
        extra,
        date.cloud_mask != "none",
        scratch,
        date.key,
        date.label,
        resampling,
        log,
    )
    if built is None:
        return date
    path, names = built
    return replace(date, path=path, bands={role: names.get(role) for role in date.bands})


def csmask_inputs(date: DateInput, ds: gdal.Dataset, radiometry: str, custom: Radiometry | None) -> CsmaskInputs:
    """What ukis-csmask needs of a date: its blue, green, red, NIR (and SWIR) bands in reflectance."""

    def inputs() -> tuple[dict[str, int], dict[int, Radiometry], dict, str]:
        roles = DateInput(
            date.path, date.label, {}, date.key, CSMASK_ROLES, ("swir1", "swir2"), date.radiometry, date.pixel_aligned
        )
        plan = plan_date(roles, ds, radiometry, custom)
        level = plan.info.level or (s2_level(ds) if plan.profile is SENTINEL2 else "") or ""
        return plan.indices, plan.conversions, plan.validity.fills, "l1c" if level.upper() in ("L1C", "L1") else "l2a"

    return inputs


def open_dates(
    dates: Sequence[DateInput],
    purpose: str,
    radiometry: str = "auto",
    custom: Radiometry | None = None,
    resampling: str = "bilinear",
    log: Log = no_log,
    scratch: str | None = None,
) -> OpenedDates:
    """Validate every date, decide how to read it, and put all dates on the first one's grid.

    A date given as a product is read from a stack of the bands it needs (built in ``scratch``). Each
    date gets its own no-data rules, reflectance conversion (``date.radiometry``, or ``radiometry`` for
    both; ``auto`` reads product metadata and values, and asks when they do not decide) and cloud mask
    (``date.cloud_mask``: its pixels are no data on every band). Class-code roles (SCL, QA) are read as
    stored and resampled with nearest. Raises :class:`~changelens.core.errors.InputError` subclasses
    (band missing, too few bands, undecidable or implausible conversion, no overlap) before any pixel
    is processed.
    """
    used: list[tuple[str, str]] = []
    dates = [product_date(d, scratch, resampling, recording(log, used, d.label)) for d in dates]
    datasets = [
        open_date(d, len(d.roles) - len(d.optional_roles), purpose, resampling, recording(log, used, d.label))
        for d in dates
    ]
    found = [date_bands(d, ds) for d, ds in zip(dates, datasets)]  # every band exists, on every date
    grid_of_overlap(datasets)  # and the dates overlap: before any value is judged
    plans = [plan_date(d, ds, radiometry, custom, True, f) for d, ds, f in zip(dates, datasets, found)]
    check_plan_conversions(radiometry, plans)
    grid, reference_view, others = align_many(
        datasets[0], datasets[1:], resampling, [_warp_nodata(p) for p in plans[1:]]
    )
    views = [reference_view, *others]
    readers: dict[str, BandReader] = {}
    profiles: dict[str, SensorProfile] = {}
    opened = OpenedDates(grid, readers, profiles, used, list(datasets))
    for plan, view in zip(plans, views):
        ds, date = plan.ds, plan.date
        record = recording(log, opened.used, date.label)
        profiles[date.key] = plan.profile
        optical: list[BandReader] = []
        for role, index in plan.indices.items():
            fill = plan.validity.fills.get(index)
            if role in CODE_ROLES:
                codes = view if view is ds else warp_to_grid(ds, grid, "nearest")
                opened.datasets.append(codes)
                reader = BandReader(ds, index, codes, Radiometry(1.0, 0.0, "class codes"), fill)
            else:
                reader = BandReader(ds, index, view, plan.conversions[index], fill)
                optical.append(reader)
            readers[f"{role}_{date.key}"] = reader
        record(plan.line())
        if plan.profile is not SENTINEL1 and optical:
            chosen = {r: i for r, i in plan.indices.items() if r in CODE_ROLES and date.bands.get(r)}
            csmask = csmask_inputs(date, ds, radiometry, custom)
            known = plan.profile.key == "sentinel2" or plan.profile.key.startswith("landsat")
            mask = date_cloud_mask(
                ds, view, grid, date.cloud_mask, chosen, optical, csmask, scratch, date.key, date.label, record, known
            )
            for reader in optical:
                reader.mask = mask
    if len(dates) > 1:
        log(
            f"Common grid: {grid.width_px} x {grid.height_px} pixels of {grid.pixel_width:g} x {grid.pixel_height:g} "
            f"(the {dates[0].label}'s grid cropped to the overlap)."
        )
    return opened


def choose_radiometry(
    ds: gdal.Dataset, index: int, choice: str = "auto", custom: Radiometry | None = None, label: str = "image"
) -> Radiometry:
    """How band ``index`` of ``ds`` becomes reflectance, decided as for a date with that one band."""
    date = DateInput(ds.GetDescription(), label, {"band": index}, "d", ("band",), radiometry=choice)
    return plan_date(date, ds, choice, custom).conversions[index]
