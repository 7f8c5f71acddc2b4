"""Sensor profiles: which band plays which role, and how stored values become reflectance.

A profile is detected from band descriptions (``B8``/``B08``/``B8A`` for
Sentinel-2, ``SR_B5`` for Landsat 8/9, ``VV``/``VH`` for Sentinel-1); a band the
user chooses always wins over detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from osgeo import gdal

from ..errors import BandNotFoundError, ParameterError
from .raster import (
    BandReader,
    BandSpec,
    Radiometry,
    band_names,
    band_radiometry,
    canonical_band_name,
    description_names,
    find_band_by_name,
    resolve_band,
)


@dataclass(frozen=True)
class SensorProfile:
    """Band roles (in order of preference) and the sensor's usual reflectance scaling."""

    key: str
    label: str
    roles: tuple[tuple[str, tuple[str, ...]], ...]
    dn_radiometry: Radiometry

    def candidates(self, role: str) -> tuple[str, ...]:
        """Band names that can play ``role``, best first."""
        return dict(self.roles).get(role, ())


SENTINEL2 = SensorProfile(
    "sentinel2",
    "Sentinel-2 MSI",
    (
        ("coastal", ("B1",)),
        ("blue", ("B2",)),
        ("green", ("B3",)),
        ("red", ("B4",)),
        ("rededge1", ("B5",)),
        ("rededge2", ("B6",)),
        ("rededge3", ("B7",)),
        ("nir", ("B8", "B8A")),
        ("nir_narrow", ("B8A", "B8")),
        ("water_vapour", ("B9",)),
        ("cirrus", ("B10",)),
        ("swir1", ("B11",)),
        ("swir2", ("B12",)),
        ("scl", ("SCL",)),
    ),
    Radiometry(1e-4, 0.0, "Sentinel-2 DN / 10000"),
)
LANDSAT89 = SensorProfile(
    "landsat89",
    "Landsat 8/9 OLI (Collection 2 Level-2)",
    (
        ("blue", ("SR_B2", "B2")),
        ("green", ("SR_B3", "B3")),
        ("red", ("SR_B4", "B4")),
        ("nir", ("SR_B5", "B5")),
        ("nir_narrow", ("SR_B5", "B5")),
        ("swir1", ("SR_B6", "B6")),
        ("swir2", ("SR_B7", "B7")),
        ("qa", ("QA_PIXEL",)),
    ),
    Radiometry(2.75e-5, -0.2, "Landsat C2 L2: DN x 0.0000275 - 0.2"),
)
SENTINEL1 = SensorProfile(
    "sentinel1", "Sentinel-1 GRD", (("vv", ("VV", "SIGMA0_VV")), ("vh", ("VH", "SIGMA0_VH"))), Radiometry()
)
GENERIC = SensorProfile(
    "generic",
    "Generic (bands by name)",
    (
        ("blue", ("BLUE",)),
        ("green", ("GREEN",)),
        ("red", ("RED",)),
        ("nir", ("NIR",)),
        ("nir_narrow", ("NIR",)),
        ("swir1", ("SWIR1", "SWIR")),
        ("swir2", ("SWIR2",)),
        ("scl", ("SCL",)),
    ),
    Radiometry(),
)
PROFILES = {p.key: p for p in (SENTINEL2, LANDSAT89, SENTINEL1, GENERIC)}

# Sentinel-2 MSI bands: centre wavelength (nm) and native pixel size (m).
S2_BANDS = {
    "B1": (443, 60),
    "B2": (490, 10),
    "B3": (560, 10),
    "B4": (665, 10),
    "B5": (705, 20),
    "B6": (740, 20),
    "B7": (783, 20),
    "B8": (842, 10),
    "B8A": (865, 20),
    "B9": (945, 60),
    "B10": (1375, 60),
    "B11": (1610, 20),
    "B12": (2190, 20),
}


def s2_native_resolution_m(name: str) -> int | None:
    """Native pixel size of a Sentinel-2 band (10, 20 or 60 m), or None for other names."""
    entry = S2_BANDS.get(canonical_band_name(name))
    return entry[1] if entry else None


def s2_level(ds: gdal.Dataset) -> str | None:
    """ "L1C" or "L2A" from product metadata or bands (SCL means L2A; B10 means L1C), else None."""
    for domain in ("", "IMAGERY", "xml:SENTINEL2"):
        items = ds.GetMetadata(domain) or {}
        if not isinstance(items, dict):
            continue
        for key in ("PRODUCT_TYPE", "PROCESSING_LEVEL", "PRODUCTTYPE"):
            value = str(items.get(key, "")).upper()
            if "2A" in value:
                return "L2A"
            if "1C" in value:
                return "L1C"
    if find_band_by_name(ds, "SCL") is not None:
        return "L2A"
    if find_band_by_name(ds, "B10") is not None:
        return "L1C"
    return None


RADIOMETRY_CHOICES = (
    ("auto", "Automatic (band metadata, product metadata, or value range)"),
    ("s2_dn", "Sentinel-2 DN / 10000 (offset already removed, or before baseline 04.00)"),
    ("s2_dn_offset", "Sentinel-2 (DN - 1000) / 10000 (processing baseline 04.00 or later)"),
    ("landsat_c2", "Landsat 8/9 C2 L2: DN x 0.0000275 - 0.2"),
    ("reflectance", "Values are reflectance already (0-1)"),
    ("custom", "Custom scale and offset"),
)


def detect_sensor(ds: gdal.Dataset) -> SensorProfile:
    """Guess the sensor from band descriptions; ``GENERIC`` when nothing matches."""
    return sensor_from_names([n for i in range(1, ds.RasterCount + 1) for n in band_names(ds, i)])


def sensor_from_names(band_names: Iterable[str]) -> SensorProfile:
    """Guess the sensor from plain band names (no dataset needed, e.g. names shown by a GUI)."""
    raw = [n.upper() for n in band_names]
    names = {canonical_band_name(n) for n in raw}
    if names & {"VV", "VH", "SIGMA0_VV", "SIGMA0_VH"}:
        return SENTINEL1
    if any(n.startswith("SR_B") for n in raw):
        return LANDSAT89
    if names & {"B8A", "B11", "B12", "B8", "TCI_R"}:
        return SENTINEL2
    if {"B5", "B7"} <= names or {"B5", "B6"} <= names:
        return LANDSAT89
    return GENERIC


def roles_from_descriptions(
    descriptions: Sequence[str], profile: SensorProfile | None = None, roles: Iterable[str] | None = None
) -> tuple[SensorProfile, dict[str, int | None]]:
    """The sensor and the 1-based band for each role, from band descriptions alone.

    ``descriptions`` holds one text per band (empty when a band has none). The same rules
    as :func:`detect_sensor` and :func:`find_role` apply, so a GUI shows what an algorithm
    left on "detect" will use. ``profile`` overrides detection; ``roles`` defaults to all
    roles of the profile. A role with no matching band maps to None.
    """
    per_band = [{canonical_band_name(n) for n in description_names(d)} for d in descriptions]
    chosen = profile or sensor_from_names(n for d in descriptions for n in description_names(d))
    found: dict[str, int | None] = {}
    for role in roles if roles is not None else [r for r, _ in chosen.roles]:
        found[role] = next(
            (
                index
                for wanted in chosen.candidates(role)
                for index, known in enumerate(per_band, start=1)
                if canonical_band_name(wanted) in known
            ),
            None,
        )
    return chosen, found


def find_role(ds: gdal.Dataset, profile: SensorProfile, role: str, user_choice: BandSpec | None, label: str) -> int:
    """The band for ``role``: the user's choice if given, else the profile's best match."""
    if user_choice not in (None, "", 0):
        return resolve_band(ds, user_choice, label)  # type: ignore[arg-type]
    index = find_band_by_name(ds, *profile.candidates(role))
    if index is None:
        wanted = " or ".join(profile.candidates(role)) or role
        raise BandNotFoundError(
            f"Cannot tell which band of the {label} is {role.upper()} (looked for {wanted} in the band "
            f"descriptions of a {profile.label} image): choose the band in the parameters."
        )
    return index


def find_band_for_role(
    ds: gdal.Dataset, profile: SensorProfile, role: str, user_choice: BandSpec | None, label: str
) -> int | None:
    """Like :func:`find_role` for a role the method can do without: None when no band plays it."""
    if user_choice not in (None, "", 0):
        return resolve_band(ds, user_choice, label)  # type: ignore[arg-type]
    return find_band_by_name(ds, *profile.candidates(role))


def _metadata_offset(ds: gdal.Dataset) -> float | None:
    """The Sentinel-2 baseline-04.00 additive offset if the product metadata carries it."""
    for domain in ("", "IMAGERY", "xml:SENTINEL2"):
        items = ds.GetMetadata(domain) or {}
        if not isinstance(items, dict):
            continue
        for key, value in items.items():
            if "ADD_OFFSET" in key.upper():
                try:
                    return float(value)
                except ValueError:
                    continue
        baseline = items.get("PROCESSING_BASELINE")
        if baseline:
            try:
                return -1000.0 if float(baseline) >= 4.0 else 0.0
            except ValueError:
                pass
    return None


def choose_radiometry(
    ds: gdal.Dataset,
    index: int,
    profile: SensorProfile,
    choice: str = "auto",
    custom: Radiometry | None = None,
) -> Radiometry:
    """How stored values of band ``index`` become reflectance, following ``choice``."""
    fixed = {
        "s2_dn": SENTINEL2.dn_radiometry,
        "s2_dn_offset": Radiometry(1e-4, -0.1, "Sentinel-2 (DN - 1000) / 10000"),
        "landsat_c2": LANDSAT89.dn_radiometry,
        "reflectance": Radiometry(1.0, 0.0, "values used as reflectance"),
    }
    if choice in fixed:
        return fixed[choice]
    if choice == "custom":
        if custom is None:
            raise ParameterError("A custom scale and offset were asked for but not given.")
        return Radiometry(custom.scale, custom.offset, f"custom: value x {custom.scale:g} + {custom.offset:g}")
    if choice != "auto":
        raise ParameterError(f"Unknown reflectance conversion '{choice}'.")
    own = band_radiometry(ds.GetRasterBand(index))
    if own is not None:
        return own
    offset = _metadata_offset(ds)
    if offset:
        return Radiometry(1e-4, offset * 1e-4, f"Sentinel-2 (DN {offset:+g}) / 10000 from product metadata")
    sample = BandReader(ds, index, radiometry=Radiometry()).sample(256)
    if sample.size and float(np.percentile(sample, 99)) <= 2.0:
        return Radiometry(1.0, 0.0, "values already look like reflectance (0-1)")
    if profile is LANDSAT89:
        return LANDSAT89.dn_radiometry
    return Radiometry(
        1e-4,
        0.0,
        "digital numbers / 10000 (reflectance x 10000); choose the baseline-04.00 option "
        "if your file still carries the +1000 offset",
    )


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b) per pixel for arrays of one shape (float32 result of that shape).

    NaN where the sum is zero or an input is NaN: normalised-difference indices (NDVI, NBR, NDWI)
    are undefined there.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        total = a + b
        out = np.subtract(a, b)
        np.divide(out, total, out=out)
    np.copyto(out, np.nan, where=total == 0)
    return out
