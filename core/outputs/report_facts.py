"""What the report says about the place, the images and their dates, without QGIS.

Product facts come from :func:`changelens.core.io.products.product_info` (sensor, level and
acquisition date from metadata files and names); the location from the class raster's grid;
the preview bands from band names, the run's own band choices, per-band source files, or the
band layout of well-known stacks.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from osgeo import gdal, osr

from ..errors import ChangeLensError
from ..io.grid import grid_of, ground_pixel_size_m
from ..io.products import product_info
from ..io.raster import find_band_by_name, open_raster
from ..io.sensors import PROFILES, detect_sensor, find_role, sensor_from_names

SENSOR_NAMES = {
    "sentinel2": "Sentinel-2 MSI",
    "landsat_oli": "Landsat 8/9 OLI",
    "landsat_etm": "Landsat 7 ETM+",
    "landsat_tm": "Landsat 4/5 TM",
    "sentinel1": "Sentinel-1 SAR",
}
# Names too plain to tell one event from another: the report then names the folder holding the file.
GENERIC_STEMS = re.compile(
    r"^(pre|post|before|after|image|img|input|t\d|date\d|a|b|s\dhand|stack|scene)([_-]\w{0,6})?$"
)
_DATE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_]?(0[1-9]|1[0-2])[-_]?(0[1-9]|[12]\d|3[01])(?!\d)")
RGB_ROLES = ("red", "green", "blue")


@dataclass(frozen=True)
class ImageFacts:
    """One input image as the report names it: file, sensor/product, acquisition date and size."""

    label: str
    path: str
    sensor: str = ""
    acquired: str = ""
    size: str = ""

    @property
    def file_name(self) -> str:
        """The file's name without its folder."""
        return os.path.basename(self.path)


@dataclass(frozen=True)
class Location:
    """Where the mapped area is: centre (degrees), ground extent (km) and the map's CRS."""

    lat: float
    lon: float
    width_km: float
    height_km: float
    crs: str

    def centre_text(self) -> str:
        """``34.1234° N, 118.5678° W``."""
        ns, ew = ("N" if self.lat >= 0 else "S"), ("E" if self.lon >= 0 else "W")
        return f"{abs(self.lat):.4f}° {ns}, {abs(self.lon):.4f}° {ew}"

    def extent_text(self) -> str:
        """``12.3 x 8.4 km`` (east-west x north-south)."""
        digits = 2 if max(self.width_km, self.height_km) < 10 else 1
        return f"{self.width_km:,.{digits}f} x {self.height_km:,.{digits}f} km"


def image_facts(label: str, path: str) -> ImageFacts:
    """Sensor/product, acquisition date and size of ``path`` (empty fields when unknown)."""
    try:
        ds = open_raster(path)
    except ChangeLensError:
        return ImageFacts(label, path)
    info = product_info(ds)
    if label.lower() in ("dem", "elevation"):
        grid = grid_of(ds)
        ground = ground_pixel_size_m(grid)
        size = f"{grid.width_px:,} x {grid.height_px:,} pixels" + (
            f", {ground[0]:.3g} x {ground[1]:.3g} m" if ground else ""
        )
        return ImageFacts(label, path, "elevation model", info.acquired, size)
    sensor = SENSOR_NAMES.get(info.sensor, "")
    if sensor and info.level:
        sensor = f"{sensor} {info.level}"
    if not sensor:
        profile = detect_sensor(ds)
        sensor = f"{profile.label} (from the band names)" if profile.key != "generic" else ""
    if not sensor and info.band_names:
        profile = sensor_from_names(info.band_names.values())
        sensor = f"{profile.label} (from the band files)" if profile.key != "generic" else ""
    grid = grid_of(ds)
    ground = ground_pixel_size_m(grid)
    pixels = f", {ground[0]:.3g} x {ground[1]:.3g} m pixels" if ground else ""
    size = f"{grid.width_px:,} x {grid.height_px:,} pixels{pixels}, {ds.RasterCount} band(s)"
    return ImageFacts(label, path, sensor, info.acquired, size)


def location_of(path: str) -> Location | None:
    """Centre latitude/longitude, ground extent and CRS of the raster at ``path`` (None without a CRS)."""
    try:
        grid = grid_of(open_raster(path))
    except ChangeLensError:
        return None
    srs, ground = grid.srs(), ground_pixel_size_m(grid)
    if srs is None or ground is None:
        return None
    xmin, ymin, xmax, ymax = grid.bounds
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _z = osr.CoordinateTransformation(srs, wgs84).TransformPoint((xmin + xmax) / 2, (ymin + ymax) / 2)
    code = srs.GetAuthorityCode(None)
    name = srs.GetName() or "unnamed CRS"
    crs = f"{srs.GetAuthorityName(None)}:{code} ({name})" if code else name
    width = ground[0] * grid.width_px / 1000.0
    height = ground[1] * grid.height_px / 1000.0
    return Location(lat, lon, width, height, crs)


def _date_in(path: str) -> str:
    match = _DATE.search(os.path.basename(path))
    return "-".join(match.groups()) if match else ""


def place_name(paths: Sequence[str]) -> str:
    """A short name for the place of ``paths``: their file names, or their folder when those are plain."""
    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths if p]
    if not stems:
        return ""
    if all(GENERIC_STEMS.match(s.lower()) for s in stems):
        folder = os.path.basename(os.path.dirname(os.path.abspath(paths[-1])))
        return folder or stems[-1]
    unique = list(dict.fromkeys(stems))
    return " vs ".join(reversed(unique[-2:])) if len(unique) > 1 else unique[0]


def default_event_title(method_title: str, images: Sequence[ImageFacts]) -> str:
    """``1-12_20200824 · 2020-07-28 → 2020-08-24`` from the inputs' names and dates.

    The place is the files' names, or their folder when the names are plain (``pre.tif``); without
    dates the file names follow (``1-12_20200824 · pre.tif → post.tif``). ``method_title`` only
    stands in when there is no input path at all.
    """
    images = [i for i in images if i.path]
    place = place_name([i.path for i in images])
    if not place:
        return method_title or "ChangeLens report"
    dates = [i.acquired or _date_in(i.path) for i in images[:2]]
    if len(dates) == 2 and all(dates) and dates[0] != dates[1]:
        return f"{place} · {dates[0]} → {dates[1]}"
    if dates and dates[-1]:
        return f"{place} · {dates[-1]}"
    names = [i.file_name for i in images[:2]]
    plain = all(GENERIC_STEMS.match(os.path.splitext(n)[0].lower()) for n in names)
    return f"{place} · {' → '.join(names)}" if plain and len(names) == 2 else place


def _stack_layout(ds: gdal.Dataset) -> tuple[int, ...] | None:
    """True-colour bands of an unnamed stack of a well-known layout (1-based)."""
    count = ds.RasterCount
    if count in (12, 13):  # Sentinel-2 B1..B12 with B8A (L1C 13 bands; L2A without B10)
        return (4, 3, 2)
    if count in (3, 4):  # RGB or RGB + NIR (aerial, PNG/JPEG exports, 4-band VHR products)
        return (1, 2, 3)
    return None


def _by_source_names(ds: gdal.Dataset) -> tuple[int, ...] | None:
    """True colour from the band names of per-band source files (a ``gdalbuildvrt -separate`` stack)."""
    names = {name.upper(): index for index, name in product_info(ds).band_names.items()}
    for wanted in (("B04", "B03", "B02"), ("B4", "B3", "B2"), ("SR_B4", "SR_B3", "SR_B2")):
        if all(w in names for w in wanted):
            return tuple(names[w] for w in wanted)
    return None


def display_bands(path: str, roles: Mapping[str, int] | None = None) -> tuple[tuple[int, ...], str] | None:
    """Bands for a readable preview of ``path`` and how they show it, true colour whenever possible.

    In order: the product's 8-bit true colour (``TCI_R/G/B``); red, green and blue found by band
    name; the run's own red/green/blue bands (``roles``: role -> 1-based band, as the user chose
    or the run found them); the names of per-band source files; the layout of an unnamed stack
    of a well-known sensor; SWIR2/NIR/red false colour; else one band in grey (NIR, a band the run
    read, else the first). None when the file cannot be read.
    """
    try:
        ds = open_raster(path)
    except ChangeLensError:
        return None
    roles = dict(roles or {})
    tci = tuple(find_band_by_name(ds, name) for name in ("TCI_R", "TCI_G", "TCI_B"))
    if all(tci):
        return tci, "true colour"  # type: ignore[return-value]
    profile = detect_sensor(ds)
    named = _roles_by_name(ds, profile.key, RGB_ROLES)
    if named:
        return named, "true colour"
    if all(r in roles for r in RGB_ROLES):
        return tuple(roles[r] for r in RGB_ROLES), "true colour"
    found = _by_source_names(ds) or (_stack_layout(ds) if profile.key == "generic" else None)
    if found and max(found) <= ds.RasterCount:
        return found, "true colour"
    false_colour = _roles_by_name(ds, profile.key, ("swir2", "nir", "red"))
    if not false_colour and all(r in roles for r in ("swir2", "nir", "red")):
        false_colour = tuple(roles[r] for r in ("swir2", "nir", "red"))
    if false_colour:
        return false_colour, "false colour (SWIR2, NIR, red)"
    read = [index for role, index in roles.items() if role not in ("scl", "qa")]
    grey = _roles_by_name(ds, profile.key, ("nir",)) or ((read[0],) if read else (1,))
    return grey, "grey"


def _roles_by_name(ds: gdal.Dataset, profile_key: str, wanted: Sequence[str]) -> tuple[int, ...] | None:
    profile = PROFILES.get(profile_key)
    if profile is None:
        return None
    try:
        return tuple(find_role(ds, profile, role, None, "image") for role in wanted)
    except ChangeLensError:
        return None


def band_labels(path: str, bands: Sequence[int]) -> list[str]:
    """The descriptions of ``bands`` of ``path`` ('' for unnamed bands or an unreadable file)."""
    try:
        ds = open_raster(path)
    except ChangeLensError:
        return ["" for _b in bands]
    return [(ds.GetRasterBand(b).GetDescription() or "").strip() if b <= ds.RasterCount else "" for b in bands]


def band_cut(path: str, band: int, low: float = 0.02, high: float = 0.98, size_px: int = 1024) -> tuple[float, float]:
    """The ``low``-``high`` cumulative cut of a band, from a read of at most ``size_px`` on a side.

    A plain decimated read: asking GDAL (or QGIS) for a histogram would store it in an
    ``.aux.xml`` beside the user's file, even through a VRT view.
    """
    ds = open_raster(path)
    src = ds.GetRasterBand(band)
    factor = max(1.0, max(ds.RasterXSize, ds.RasterYSize) / size_px)
    shape = (max(1, round(ds.RasterXSize / factor)), max(1, round(ds.RasterYSize / factor)))
    values = src.ReadAsArray(buf_xsize=shape[0], buf_ysize=shape[1]).astype(np.float64)
    valid = np.isfinite(values)
    nodata = src.GetNoDataValue()
    if nodata is not None:
        valid &= values != nodata
    if not valid.any():
        return 0.0, 1.0
    lo, hi = np.quantile(values[valid], [low, high])
    return float(lo), float(hi)


def preview_source(path: str, folder: str, name: str) -> str | None:
    """A VRT view of ``path`` in ``folder`` for the map renderer, so that statistics it computes
    (``.aux.xml``) land in ``folder`` and never next to the user's input file; None if unreadable."""
    target = os.path.join(folder, f"{name}.vrt")
    try:
        gdal.Translate(target, path, format="VRT")
    except RuntimeError:
        return None
    return target


def nice_step(span: float, count: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 x 10^k) giving about ``count`` intervals over ``span``."""
    raw = span / max(count, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
