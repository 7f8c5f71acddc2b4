"""Which raw values are no data, decided per date on the raw values before any scaling.

GDAL's no-data flag, the mask band and NaN are not the whole story. Producers mark no data by
convention: Sentinel-2 DN 0 (``SPECIAL_VALUE_NODATA`` in the product metadata; still 0 after the
baseline-04.00 offset, where it would become reflectance -0.1 and slip through), Landsat
Collection 2 fill 0, exports (Earth Engine and similar services) that write 0 outside their
area of interest without a no-data tag, float fill values such as -3.4e38 with no flag, and fill
values such as -9999, -32768 or 65535 written without a tag (counted only when they stand apart
from the band's data).
:func:`date_validity` decides these rules once per date on a decimated read of the raw bands,
counts the pixels each removes, and hands back a :class:`Fill` per band for the readers (and
for the warp that puts a date on another grid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from osgeo import gdal

from .products import ProductInfo

FLOAT_FILL = 1e30  # |value| at or above this in float data is a fill value (-3.4e38, -1e38 ...)
# Fill values exports write without a no-data tag (GDAL/ESRI -9999, int16 and uint16 limits). One counts as a
# fill only when it stands apart from the band's other values by more than SENTINEL_GAP times their range.
FILL_SENTINELS = (-9999.0, -32768.0, -32767.0, 32767.0, 65535.0)
SENTINEL_GAP = 0.5
SAMPLE_SIDE_PX = 1024
ALL_ZERO_SHARE = 0.001  # pixels with every band of the file exactly 0 on this share or more: an export's outside
_INTEGER_TYPES = (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_UInt32, gdal.GDT_Int32)


@dataclass(frozen=True)
class Fill:
    """Raw values of one band that are no data (besides GDAL's flag, mask and NaN)."""

    values: tuple[float, ...] = ()
    abs_over: float | None = None  # any |value| >= this is a fill value (float data)

    def mask(self, raw: np.ndarray) -> np.ndarray:
        """Boolean array (shape of ``raw``): True where a raw value is a fill value."""
        out = np.zeros(raw.shape, bool)
        for value in self.values:
            out |= raw == value
        if self.abs_over is not None:
            with np.errstate(invalid="ignore"):
                out |= np.abs(raw) >= self.abs_over
        return out

    @property
    def primary(self) -> float | None:
        """The value a GDAL warp should treat as no data (the first fill value), if any."""
        return self.values[0] if self.values else None


@dataclass
class DateValidity:
    """The fill rules of one date, what they removed, and the raw valid values they leave.

    ``fills`` maps a 1-based band to its :class:`Fill`; ``notes`` say, per rule, the share of
    the date's pixels it removed; ``samples`` map a band to its raw valid values (1-D float64,
    a regular sample of the whole band) for the radiometry and plausibility checks.
    """

    fills: dict[int, Fill] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    samples: dict[int, np.ndarray] = field(default_factory=dict)


def raw_sample(ds: gdal.Dataset, index: int, side_px: int = SAMPLE_SIDE_PX) -> tuple[np.ndarray, np.ndarray]:
    """(raw values, flagged) of a nearest-neighbour decimated read of band ``index``, 2-D of at most
    ``side_px`` a side; ``flagged`` is True where GDAL's no-data flag, mask or NaN says no data."""
    band = ds.GetRasterBand(index)
    shape = {"buf_xsize": min(band.XSize, side_px), "buf_ysize": min(band.YSize, side_px)}
    nearest = gdal.GRIORA_NearestNeighbour
    raw = band.ReadAsArray(0, 0, band.XSize, band.YSize, resample_alg=nearest, **shape).astype(np.float64)
    flagged = ~np.isfinite(raw)
    nodata = band.GetNoDataValue()
    if nodata is not None and not np.isnan(nodata):
        flagged |= raw == nodata
    if not band.GetMaskFlags() & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA):
        mask = band.GetMaskBand().ReadAsArray(0, 0, band.XSize, band.YSize, resample_alg=nearest, **shape)
        flagged |= mask == 0
    return raw, flagged


def _percent(part: np.ndarray, total: int) -> str:
    share = 100.0 * float(part.sum()) / max(total, 1)
    return f"{share:.1f} %" if share >= 0.1 or not part.any() else "< 0.1 %"


def _sentinels(valid: np.ndarray) -> tuple[float, ...]:
    """The values of :data:`FILL_SENTINELS` in ``valid`` (1-D raw values) that stand apart from the rest."""
    found = []
    for value in FILL_SENTINELS:
        hit = valid == value
        if not hit.any():
            continue
        rest = valid[~hit & np.isfinite(valid) & (np.abs(valid) < FLOAT_FILL)]
        if rest.size == 0:
            found.append(value)
            continue
        low, high = float(rest.min()), float(rest.max())
        gap = SENTINEL_GAP * max(high - low, 1.0)
        if value < low - gap or value > high + gap:
            found.append(value)
    return tuple(found)


def date_validity(
    ds: gdal.Dataset, indices: Sequence[int], sensor: str, info: ProductInfo, code_bands: Sequence[int] = ()
) -> DateValidity:
    """The fill rules of the bands ``indices`` of one date, decided on their raw values.

    ``sensor`` is the detected profile key (``sentinel2``, ``landsat89`` ...); ``code_bands``
    (SCL, QA) hold class codes and keep only GDAL's own no-data rules.
    """
    result = DateValidity()
    reads = {i: raw_sample(ds, i) for i in dict.fromkeys(indices)}
    if not reads:
        return result
    total = next(iter(reads.values()))[0].size
    flagged = np.zeros(next(iter(reads.values()))[0].shape, bool)
    for _raw, band_flagged in reads.values():
        flagged |= band_flagged
    if flagged.any():
        result.notes.append(f"{_percent(flagged, total)} by the no-data flag, mask or NaN")
    removed = flagged.copy()
    optical = [i for i in reads if i not in code_bands]
    integer = all(ds.GetRasterBand(i).DataType in _INTEGER_TYPES for i in optical)
    looks_dn = optical and all(
        integer or np.nanpercentile(np.where(reads[i][1], np.nan, reads[i][0]), 99) > 2.0
        for i in optical
        if (~reads[i][1]).any()
    )
    rule = None
    if sensor == "sentinel2" and looks_dn:
        values = info.nodata_dn or (0.0,)
        rule = (Fill(values), f"Sentinel-2 NO_DATA (DN {', '.join(f'{v:g}' for v in values)})")
    elif sensor.startswith("landsat") and looks_dn:
        rule = (Fill((0.0,)), "Landsat Collection 2 fill (DN 0)")
    elif ds.RasterCount >= 2 and optical:
        zero = np.ones(flagged.shape, bool)
        for i in range(1, ds.RasterCount + 1):  # every band of the file, read or not
            zero &= (reads[i][0] if i in reads else raw_sample(ds, i)[0]) == 0
        zero &= ~flagged
        if ALL_ZERO_SHARE <= zero.mean() < 1.0:  # a frame of zeros around data, not an all-zero file
            rule = (Fill((0.0,)), "every band 0 (the outside of an export, no no-data tag)")
    floats = [i for i in optical if ds.GetRasterBand(i).DataType not in _INTEGER_TYPES]
    sentinels = {i: _sentinels(reads[i][0][~reads[i][1]]) for i in optical}
    for i in reads:
        fill = Fill()
        if i in optical and rule is not None:
            fill = rule[0]
        if sentinels.get(i):
            fill = Fill(tuple(dict.fromkeys((*fill.values, *sentinels[i]))), fill.abs_over)
        if i in floats:
            fill = Fill(fill.values, FLOAT_FILL)
        result.fills[i] = fill
    if rule is not None:
        hit = np.zeros(flagged.shape, bool)
        for i in optical:
            hit |= rule[0].mask(reads[i][0])
        hit &= ~removed
        removed |= hit
        result.notes.append(f"{_percent(hit, total)} by the rule {rule[1]}")
    for value in sorted({v for values in sentinels.values() for v in values}):
        hit = np.zeros(flagged.shape, bool)
        for i in optical:
            if value in sentinels[i]:
                hit |= reads[i][0] == value
        hit &= ~removed
        removed |= hit
        result.notes.append(f"{_percent(hit, total)} by the fill value {value:g} (no no-data tag)")
    if floats:
        big = np.zeros(flagged.shape, bool)
        for i in floats:
            big |= Fill(abs_over=FLOAT_FILL).mask(reads[i][0])
        big &= ~removed
        removed |= big
        if big.any():
            result.notes.append(f"{_percent(big, total)} by float fill values (|value| >= 1e30, e.g. -3.4e38)")
    for i, (raw, band_flagged) in reads.items():
        keep = ~(band_flagged | result.fills[i].mask(raw))
        result.samples[i] = raw[keep].ravel()
    return result
