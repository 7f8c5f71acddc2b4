"""Sentinel-1 backscatter: what scale the values are in, and conversion to dB.

Every SAR method works on dB (or, for uncalibrated 8-bit display images, on the
display values, which a linear stretch of dB makes proportional to dB). The
scale is detected only where the values leave no doubt; otherwise the user says.
Speckle filters are in :mod:`changelens.core.engine.filters`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from osgeo import gdal

from ..errors import BandNotFoundError, EmptyDataError, ParameterError
from ..progress import Log, recording
from .georef import georeferenced
from .grid import Grid, align_many
from .products import ProductInfo
from .raster import BandReader, BandSpec, find_band_by_name, open_raster, resolve_band
from .validity import Fill, date_validity

SAR_SCALES = (
    ("auto", "Automatic (detect; stops and asks when the values are ambiguous)"),
    ("db", "Calibrated backscatter in dB"),
    ("power", "Calibrated backscatter, linear power (sigma0)"),
    ("amplitude", "Calibrated backscatter, linear amplitude (sqrt of sigma0)"),
    ("display8", "Uncalibrated 8-bit display image (0-255, stretched)"),
)


@dataclass(frozen=True)
class ScaleCheck:
    """The scale a band is read in and why."""

    scale: str
    reason: str


def _value_summary(sample: np.ndarray) -> str:
    p1, p50, p99 = np.percentile(sample, [1, 50, 99])
    return f"1st/50th/99th percentiles {p1:.3g} / {p50:.3g} / {p99:.3g}"


# SNAP's band names say the scale: Sigma0_VV / Gamma0_VV / Beta0_VV are calibrated linear power (below 10,
# i.e. +10 dB, outside strong point targets), Intensity_VV and Amplitude_VV the uncalibrated power and
# amplitude of a GRD, and "_db" is appended after "Linear to/from dB" (SNAP Sentinel-1 Toolbox band
# naming; UN-SPIDER flood mapping practice). Names are read only when the values agree with them.
_SNAP_SCALE = re.compile(r"^(SIGMA0|GAMMA0|BETA0|INTENSITY|AMPLITUDE)_(VV|VH|HH|HV)$", re.I)
_CALIBRATED_POWER_MAX = 10.0


def _scale_from_name(band_name: str, p1: float, p99: float) -> ScaleCheck | None:
    match = _SNAP_SCALE.match(band_name.strip())
    if match is None or p1 < 0.0:
        return None
    kind = match.group(1).upper()
    if kind == "AMPLITUDE":
        return ScaleCheck("amplitude", f"amplitude, from SNAP's band name {band_name}")
    if kind == "INTENSITY" or p99 < _CALIBRATED_POWER_MAX:
        return ScaleCheck("power", f"linear power, from SNAP's band name {band_name}")
    return None


def detect_scale(reader: BandReader, data_type: int, declared: str, label: str, band_name: str = "") -> ScaleCheck:
    """Check the declared scale against the values, or detect it; raise when it cannot be told.

    Declared dB data that is clearly not dB (an 8-bit image, or values that are all
    non-negative with a positive median) is refused rather than silently misread. ``auto``
    also reads SNAP's band names (``Sigma0_VV`` linear power, ``..._db`` dB) when the
    values agree with them.
    """
    sample = reader.sample(512)
    if sample.size == 0:
        raise EmptyDataError(f"The {label} has no valid pixel (all no data).")
    summary = _value_summary(sample)
    p1, p50, p99 = (float(v) for v in np.percentile(sample, [1, 50, 99]))
    is_byte = data_type == gdal.GDT_Byte
    if declared == "db":
        if is_byte or (p1 >= 0.0 and p50 > 0.0):
            raise ParameterError(
                f"The {label} was declared as dB but its values are not dB ({summary}; calibrated sigma0 in dB "
                "is mostly negative): choose the scale that matches the file (linear power, amplitude or "
                "uncalibrated 8-bit display image)."
            )
        return ScaleCheck("db", f"dB as declared ({summary})")
    if declared in ("power", "amplitude"):
        if p1 < 0.0:
            raise ParameterError(
                f"The {label} was declared as linear {declared} but holds negative values ({summary}): "
                "it is probably in dB; choose dB."
            )
        return ScaleCheck(declared, f"linear {declared} as declared ({summary})")
    if declared == "display8":
        return ScaleCheck("display8", f"8-bit display values as declared ({summary}); thresholds are in DN")
    if declared != "auto":
        raise ParameterError(f"Unknown SAR scale '{declared}'.")
    if is_byte:
        return ScaleCheck(
            "display8",
            f"8-bit image: read as an uncalibrated display image ({summary}); thresholds are in DN "
            "(choose another scale if this is wrong)",
        )
    if p50 < 0.0:
        return ScaleCheck("db", f"values are mostly negative, read as dB ({summary})")
    named = _scale_from_name(band_name, p1, p99)
    if named is not None:
        return ScaleCheck(named.scale, f"{named.reason} ({summary})")
    raise ParameterError(
        f"Cannot tell the scale of the {label} from its values ({summary}): choose dB, linear power, "
        "amplitude or 8-bit display in the 'Input scale' parameter."
    )


def to_db(values: np.ndarray, scale: str) -> np.ndarray:
    """Values (any shape, float) in the working scale: dB for calibrated data, unchanged for display images.

    Linear power becomes ``10 log10``, amplitude ``20 log10``; values <= 0 become NaN. Same shape, float32.
    """
    if scale in ("db", "display8"):
        return values
    out = np.full(values.shape, np.nan, np.float32)
    positive = values > 0
    factor = 10.0 if scale == "power" else 20.0
    out[positive] = factor * np.log10(values[positive])
    return out


SAR_NAMES = {"vv": ("VV", "SIGMA0_VV", "VV_DB"), "vh": ("VH", "SIGMA0_VH", "VH_DB")}


def sar_bands(ds: gdal.Dataset, label: str, chosen: Mapping[str, BandSpec | None], polarisation: str) -> dict[str, int]:
    """Band number per polarisation to use: the user's choice, else band descriptions, else a single band.

    Raises :class:`BandNotFoundError` when the bands cannot be told apart or a wanted one is missing.
    """
    found: dict[str, int] = {}
    for pol, names in SAR_NAMES.items():
        choice = chosen.get(pol)
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


@dataclass
class SarDates:
    """The given dates (``keys``, before first) on one grid, with one reader per ``"<pol>_<key>"``.

    ``pols`` are the polarisations both dates share (``single`` for one unnamed band), ``scale``
    the checked scale (a key of ``SAR_SCALES``), ``label`` how the log names the bands used.
    """

    grid: Grid
    readers: dict[str, BandReader]
    keys: list[str]
    pols: list[str]
    scale: str
    label: str
    datasets: list[Any] = field(default_factory=list)
    used: list[tuple[str, str]] = field(default_factory=list)


def open_sar_dates(
    images: Mapping[str, str | None],
    bands: Mapping[str, Mapping[str, BandSpec | None]],
    polarisation: str,
    scale: str,
    resampling: str,
    log: Log,
    pixel_aligned: bool = False,
) -> SarDates:
    """Open the before (optional) and after images: polarisation bands, checked scale, one grid.

    Raises :class:`BandNotFoundError` when the bands cannot be told apart or the dates share no
    polarisation, and :class:`ParameterError` when the scale is ambiguous or differs between dates.
    """
    opened = []
    used: list[tuple[str, str]] = []
    for key in ("before", "after"):
        path = images.get(key)
        if not path:
            continue
        label = f"{key} image"
        record = recording(log, used, label)
        ds = georeferenced(open_raster(path), label, pixel_aligned, resampling, record)
        found = sar_bands(ds, label, bands.get(key, {}), polarisation)
        validity = date_validity(ds, list(found.values()), "sentinel1", ProductInfo())
        fills, notes = dict(validity.fills), list(validity.notes)
        scales = {}
        for pol, index in found.items():
            reader = BandReader(ds, index, fill=fills.get(index))
            check = detect_scale(reader, ds.GetRasterBand(index).DataType, scale, label, reader.name)
            scales[pol] = check.scale
            name = "the only band" if pol == "single" else pol.upper()
            record(f"{label}: {name} = band {index} ({reader.name}); scale: {check.reason}.")
        if len(set(scales.values())) > 1:
            raise ParameterError(f"The {label}'s bands are in different scales ({scales}): choose the scale.")
        if next(iter(scales.values())) == "db":
            zero = max(
                float(np.mean(validity.samples[i] == 0)) if validity.samples[i].size else 0.0 for i in found.values()
            )
            if zero > 0:
                fills = {i: Fill((*f.values, 0.0), f.abs_over) for i, f in fills.items()}
                notes.append(f"{100 * zero:.1f} % of the rest by exact 0 dB (an export's outside, not backscatter)")
        if notes:
            record(f"{label}: no data: {', '.join(notes)}.")
        opened.append((key, ds, found, next(iter(scales.values())), fills))
    if len({found_scale for _k, _d, _f, found_scale, _fills in opened}) > 1:
        raise ParameterError("The before and after images are in different scales: choose the input scale.")
    common = [p for p in opened[-1][2] if all(p in found for _k, _d, found, _s, _fills in opened)]
    if not common:
        raise BandNotFoundError("The before and after images share no polarisation: choose the bands.")
    warp_fills = []
    for _key, _ds, found, _scale, fills in opened[1:]:
        primaries = {fills[found[p]].primary for p in common}
        warp_fills.append(primaries.pop() if len(primaries) == 1 else None)
    grid, reference, others = align_many(opened[0][1], [o[1] for o in opened[1:]], resampling, warp_fills)
    readers = {
        f"{pol}_{key}": BandReader(ds, found[pol], view, fill=fills[found[pol]])
        for (key, ds, found, _scale, fills), view in zip(opened, [reference, *others])
        for pol in common
    }
    label = " and ".join(p.upper() for p in common) if common != ["single"] else "the single band"
    keys, datasets = [o[0] for o in opened], [o[1] for o in opened]
    return SarDates(grid, readers, keys, common, opened[0][3], label, datasets, used)
