"""Open rasters, find bands by index or name, and read windows as float arrays.

Reading honours per-band nodata, NaN, GDAL mask bands and the band's own
scale/offset; values that are no data come back as NaN.
"""

from __future__ import annotations

import contextlib
import copy
import re
import threading
from dataclasses import dataclass
from typing import Any, ContextManager, Iterator, Sequence, Union

import numpy as np
from osgeo import gdal

from ..errors import BandCountError, BandNotFoundError, NotARasterError
from .products import band_name_from_file, vrt_source
from .validity import Fill
from .windows import Window

BandSpec = Union[int, str]
_EXACT_IN_FLOAT32 = (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_Float32)

_S2_LIKE = re.compile(r"^(?:SR_)?B0*(\d{1,2})(A?)$")
_RESOLUTION = re.compile(r"_(10|20|60)M$")
# SNAP and other SAR tools: Sigma0_VV_db, Gamma0_VH, Beta0_VV, Amplitude_VH, Intensity_VV (+ _db = dB).
_SAR_NAME = re.compile(r"^(?:SIGMA0|GAMMA0|BETA0|AMPLITUDE|INTENSITY)_(VV|VH|HH|HV)(?:_DB)?$")


def open_raster(path: str) -> gdal.Dataset:
    """Open ``path`` read-only, or raise :class:`NotARasterError`."""
    try:
        ds = gdal.OpenEx(str(path), gdal.OF_RASTER | gdal.OF_READONLY)
    except RuntimeError as exc:
        raise NotARasterError(f"'{path}' is not a raster GDAL can read ({exc}).") from exc
    if ds is None or ds.RasterCount == 0:
        raise NotARasterError(f"'{path}' is not a raster GDAL can read.")
    return ds


def canonical_band_name(name: str) -> str:
    """Normalise a band name so that names producers write for one band compare equal.

    ``B8``, ``B08``, ``b08``, ``SR_B8`` and ``B08_10m`` give ``B8``; SNAP's ``Sigma0_VV_db``,
    ``Gamma0_VV`` or ``Intensity_VV`` give ``VV``. Other names are upper-cased.
    """
    text = _RESOLUTION.sub("", name.strip().upper().replace(" ", "_"))
    match = _S2_LIKE.match(text)
    if match:
        return f"B{int(match.group(1))}{match.group(2)}"
    sar = _SAR_NAME.match(text)
    if sar:
        return sar.group(1)
    return text


def description_names(description: str) -> list[str]:
    """The names a band description gives: the description and its first token (``"B8, NIR"`` -> ``B8``)."""
    text = (description or "").strip()
    if not text:
        return []
    token = re.split(r"[,\s]+", text)[0]
    return [text, token] if token and token != text else [text]


def band_names(ds: gdal.Dataset, index: int) -> list[str]:
    """Every name a band is known by: description, its first token, BANDNAME metadata, and for an
    unnamed band of a VRT stack the band its source file holds (``..._SR_B5.TIF`` -> ``SR_B5``)."""
    band = ds.GetRasterBand(index)
    names = description_names(band.GetDescription() or "")
    for key in ("BANDNAME", "band_name", "NAME"):
        value = band.GetMetadataItem(key)
        if value:
            names.append(value.strip())
    if not names and ds.GetDriver().ShortName == "VRT":
        source = vrt_source(ds, index)
        name = band_name_from_file(source) if source else ""
        if name:
            names.append(name)
    return names


def band_descriptions(ds: gdal.Dataset) -> list[str]:
    """Canonical names of all bands (empty string where a band has none)."""
    out = []
    for i in range(1, ds.RasterCount + 1):
        names = band_names(ds, i)
        out.append(canonical_band_name(re.split(r"[,\s]+", names[0])[0]) if names else "")
    return out


def find_band_by_name(ds: gdal.Dataset, *names: str) -> int | None:
    """1-based index of the first band matching any of ``names`` (in order), or None."""
    wanted = [canonical_band_name(n) for n in names]
    table = {i: {canonical_band_name(n) for n in band_names(ds, i)} for i in range(1, ds.RasterCount + 1)}
    for name in wanted:
        for index, known in table.items():
            if name in known:
                return index
    return None


def resolve_band(ds: gdal.Dataset, spec: BandSpec, label: str = "raster") -> int:
    """Turn a 1-based index or a band name into a 1-based index, or raise."""
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec.strip())
    if isinstance(spec, int):
        if 1 <= spec <= ds.RasterCount:
            return spec
        raise BandNotFoundError(f"The {label} has {ds.RasterCount} band(s); band {spec} does not exist.")
    index = find_band_by_name(ds, spec)
    if index is None:
        known = ", ".join(n or f"#{i}" for i, n in enumerate(band_descriptions(ds), start=1))
        raise BandNotFoundError(f"The {label} has no band named '{spec}' (its bands: {known}).")
    return index


def require_bands(ds: gdal.Dataset, count: int, label: str, purpose: str) -> None:
    """Raise :class:`BandCountError` unless ``ds`` has at least ``count`` bands."""
    if ds.RasterCount < count:
        raise BandCountError(f"The {label} has {ds.RasterCount} band(s) but {purpose} needs at least {count}.")


@dataclass(frozen=True)
class Radiometry:
    """Linear conversion from stored values to physical values: ``value * scale + offset``."""

    scale: float = 1.0
    offset: float = 0.0
    source: str = "identity"

    @property
    def is_identity(self) -> bool:
        """True when values are used as stored."""
        return self.scale == 1.0 and self.offset == 0.0


def band_radiometry(band: gdal.Band) -> Radiometry | None:
    """The band's own scale/offset from its metadata, or None when it has none."""
    scale = band.GetScale()
    offset = band.GetOffset()
    if (scale in (None, 1.0)) and (offset in (None, 0.0)):
        return None
    return Radiometry(float(scale if scale is not None else 1.0), float(offset or 0.0), "band metadata")


class BandReader:
    """Reads windows of one band as float32 with no data as NaN.

    ``source`` is the dataset whose metadata (nodata, scale/offset) describes the
    band; ``pixels`` is where the values are read (the same dataset or a
    VRT/warped view of it on another grid).
    """

    def __init__(
        self,
        source: gdal.Dataset,
        index: int,
        pixels: gdal.Dataset | None = None,
        radiometry: Radiometry | None = None,
        fill: Fill | None = None,
        mask: Any = None,
    ) -> None:
        self.index = index
        self.fill = fill or Fill()
        self.mask = mask  # a cloud mask (``masks.MaskReader``): its masked pixels are no data too
        # Keep both datasets alive: GDAL bands and VRT views die with their dataset objects.
        self._datasets = (source, pixels)
        self._band = (pixels or source).GetRasterBand(index)
        src_band = source.GetRasterBand(index)
        self.nodata = src_band.GetNoDataValue()
        pix_nodata = self._band.GetNoDataValue()
        self._nodata_values = [v for v in (self.nodata, pix_nodata) if v is not None and not np.isnan(v)]
        flags = self._band.GetMaskFlags()
        self._use_mask = not (flags & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA))
        self.radiometry = radiometry or band_radiometry(src_band) or Radiometry()
        self.name = (src_band.GetDescription() or f"band {index}").strip()
        self._lock: ContextManager[object] = contextlib.nullcontext()
        # Types whose every value is a float32 (and integer nodata values): GDAL converts while it copies.
        self._as_float32 = self._band.DataType in _EXACT_IN_FLOAT32 and all(
            float(np.float32(v)) == v and v == round(v) for v in self._nodata_values
        )

    @property
    def pixels(self) -> gdal.Dataset:
        """The dataset the values are read from (the source or its view on the run's grid)."""
        source, pixels = self._datasets
        return pixels if pixels is not None else source

    def with_pixels(self, pixels: gdal.Dataset, mask: Any = None) -> BandReader:
        """The same reader reading through ``pixels``, another handle on the same pixels (for another thread),
        and ``mask`` as its cloud mask (that thread's copy; None keeps none)."""
        clone = copy.copy(self)
        clone._datasets = (self._datasets[0], pixels)
        clone._band = pixels.GetRasterBand(self.index)
        clone._lock = contextlib.nullcontext()
        clone.mask = mask
        return clone

    def with_lock(self, lock: threading.Lock, mask: Any = None) -> BandReader:
        """The same reader with every read of its dataset serialised by ``lock`` (a handle shared by threads),
        and ``mask`` as its cloud mask (that thread's copy; None keeps none)."""
        clone = copy.copy(self)
        clone._lock = lock
        clone.mask = mask
        return clone

    def read(self, window: Window) -> np.ndarray:
        """Physical values of ``window`` as float32 of shape ``(window.height, window.width)``.

        The band's nodata value(s), NaN, GDAL mask and cloud mask become NaN; the radiometry (scale, offset) is
        applied to the rest.
        """
        return self.read_rows(window, 0, 1)

    def read_rows(self, window: Window, first: int, step: int) -> np.ndarray:
        """Like :meth:`read`, for rows ``first, first + step, ...`` of ``window`` only: float32 of shape
        ``(len(range(first, window.height, step)), window.width)``, each pixel as :meth:`read` gives it."""
        with self._lock:
            raw = self._band.ReadAsArray(
                window.col_off,
                window.row_off,
                window.width,
                window.height,
                buf_type=gdal.GDT_Float32 if self._as_float32 else None,
            )
            mask = (
                self._band.GetMaskBand().ReadAsArray(window.col_off, window.row_off, window.width, window.height)
                if self._use_mask
                else None
            )
        if step != 1 or first:
            raw = np.ascontiguousarray(raw[first::step])
            mask = mask[first::step] if mask is not None else None
        data = raw if self._as_float32 and raw.flags.writeable else raw.astype(np.float32, copy=True)
        for value in self._nodata_values:
            np.copyto(data, np.float32(np.nan), where=raw == (np.float32(value) if self._as_float32 else value))
        if self.fill.values or self.fill.abs_over is not None:
            np.copyto(data, np.float32(np.nan), where=self.fill.mask(raw))
        if mask is not None:
            np.copyto(data, np.float32(np.nan), where=mask == 0)
        if self.mask is not None:
            clouds = self.mask.read(window)
            np.copyto(data, np.float32(np.nan), where=clouds[first::step] if step != 1 or first else clouds)
        if self.radiometry.scale != 1.0:
            data *= np.float32(self.radiometry.scale)
        if self.radiometry.offset != 0.0:
            data += np.float32(self.radiometry.offset)
        return data

    def _decimated(self, max_side_px: int, cloud_mask: bool = True) -> np.ndarray:
        """Values (2-D float32, NaN = no data) of a nearest-neighbour decimated read of the whole band."""
        width, height = self._band.XSize, self._band.YSize
        shape = {"buf_xsize": min(width, max_side_px), "buf_ysize": min(height, max_side_px)}
        nearest = gdal.GRIORA_NearestNeighbour
        with bounded_gdal_cache():
            raw = self._band.ReadAsArray(0, 0, width, height, resample_alg=nearest, **shape)
            mask = (
                self._band.GetMaskBand().ReadAsArray(0, 0, width, height, resample_alg=nearest, **shape)
                if self._use_mask
                else None
            )
        data = raw.astype(np.float32)
        for value in self._nodata_values:
            data[raw == value] = np.nan
        if self.fill.values or self.fill.abs_over is not None:
            data[self.fill.mask(raw)] = np.nan
        if mask is not None:
            data[mask == 0] = np.nan
        if cloud_mask and self.mask is not None:
            data[self.mask.sample(data.shape)] = np.nan
        return data

    def sample(self, max_side_px: int = 512) -> np.ndarray:
        """Valid values (1-D float32, physical units) of a decimated read of the whole band, at most
        ``max_side_px`` pixels a side (nearest neighbour).

        The same pixels count as no data as in :meth:`read` (nodata values, NaN, mask band, cloud mask), so
        thresholds computed on the sample never see masked pixels.
        """
        data = self._decimated(max_side_px)
        if not self.radiometry.is_identity:
            data = data * np.float32(self.radiometry.scale) + np.float32(self.radiometry.offset)
        return data[np.isfinite(data)]

    def valid_sample(self, max_side_px: int = 512) -> np.ndarray:
        """2-D boolean (at most ``max_side_px`` a side): True where the band has data, clouds not counted."""
        return np.isfinite(self._decimated(max_side_px, cloud_mask=False))


def all_finite(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean mask (shape of the arrays) of pixels that are finite in every array of ``arrays``
    (one shape for all).
    """
    mask = np.isfinite(arrays[0])
    for arr in arrays[1:]:
        mask &= np.isfinite(arr)
    return mask


@contextlib.contextmanager
def bounded_gdal_cache(max_bytes: int = 128 << 20) -> Iterator[None]:
    """Cap GDAL's block cache during a run so memory does not grow with raster size."""
    previous = gdal.GetCacheMax()
    gdal.SetCacheMax(min(previous, max_bytes))
    try:
        yield
    finally:
        gdal.SetCacheMax(previous)
