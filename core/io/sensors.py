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

from ..errors import BandNotFoundError
from .products import ProductInfo, product_info
from .raster import (
    BandSpec,
    Radiometry,
    band_names,
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
        ("coastal", ("B1", "COASTAL")),
        ("blue", ("B2", "BLUE")),
        ("green", ("B3", "GREEN")),
        ("red", ("B4", "RED")),
        ("rededge1", ("B5", "REDEDGE1", "REDEDGE")),
        ("rededge2", ("B6", "REDEDGE2")),
        ("rededge3", ("B7", "REDEDGE3")),
        ("nir", ("B8", "NIR", "B8A", "NIR08")),
        ("nir_narrow", ("B8A", "NIR08", "B8", "NIR")),
        ("water_vapour", ("B9", "NIR09")),
        ("cirrus", ("B10", "CIRRUS")),
        ("swir1", ("B11", "SWIR16")),
        ("swir2", ("B12", "SWIR22")),
        ("scl", ("SCL",)),
    ),
    Radiometry(1e-4, 0.0, "Sentinel-2 DN / 10000"),
)
LANDSAT89 = SensorProfile(
    "landsat89",
    "Landsat 8/9 OLI (Collection 2 Level-2)",
    (
        ("coastal", ("SR_B1", "COASTAL")),
        ("blue", ("SR_B2", "B2", "BLUE")),
        ("green", ("SR_B3", "B3", "GREEN")),
        ("red", ("SR_B4", "B4", "RED")),
        ("nir", ("SR_B5", "B5", "NIR08", "NIR")),
        ("nir_narrow", ("SR_B5", "B5", "NIR08", "NIR")),
        ("swir1", ("SR_B6", "B6", "SWIR16")),
        ("swir2", ("SR_B7", "B7", "SWIR22")),
        ("qa", ("QA_PIXEL",)),
    ),
    Radiometry(2.75e-5, -0.2, "Landsat C2 L2: DN x 0.0000275 - 0.2"),
)
LANDSAT457 = SensorProfile(
    "landsat457",
    "Landsat 4-5 TM / 7 ETM+ (Collection 2 Level-2)",
    (
        ("blue", ("SR_B1", "BLUE")),
        ("green", ("SR_B2", "GREEN")),
        ("red", ("SR_B3", "RED")),
        ("nir", ("SR_B4", "NIR08", "NIR")),
        ("nir_narrow", ("SR_B4", "NIR08", "NIR")),
        ("swir1", ("SR_B5", "SWIR16")),
        ("swir2", ("SR_B7", "B7", "SWIR22")),
        ("qa", ("QA_PIXEL",)),
    ),
    Radiometry(2.75e-5, -0.2, "Landsat C2 L2: DN x 0.0000275 - 0.2"),
)
# Landsat Collection 2 bands whose generation nothing tells: only the roles both generations name alike.
LANDSAT_UNKNOWN = SensorProfile(
    "landsat",
    "Landsat Collection 2 (generation not known)",
    (
        ("blue", ("BLUE",)),
        ("green", ("GREEN",)),
        ("red", ("RED",)),
        ("nir", ("NIR08", "NIR")),
        ("nir_narrow", ("NIR08", "NIR")),
        ("swir1", ("SWIR16",)),
        ("swir2", ("SR_B7", "B7", "SWIR22")),
        ("qa", ("QA_PIXEL",)),
    ),
    Radiometry(2.75e-5, -0.2, "Landsat C2 L2: DN x 0.0000275 - 0.2"),
)
SENTINEL1 = SensorProfile(
    "sentinel1", "Sentinel-1 GRD", (("vv", ("VV", "SIGMA0_VV")), ("vh", ("VH", "SIGMA0_VH"))), Radiometry()
)
# Plain names and STAC common names / asset keys (blue, nir08, swir16 ...), whatever the sensor.
GENERIC = SensorProfile(
    "generic",
    "Generic (bands by name)",
    (
        ("coastal", ("COASTAL",)),
        ("blue", ("BLUE",)),
        ("green", ("GREEN",)),
        ("red", ("RED",)),
        ("rededge1", ("REDEDGE1", "REDEDGE")),
        ("nir", ("NIR", "NIR08")),
        ("nir_narrow", ("NIR08", "NIR")),
        ("swir1", ("SWIR1", "SWIR16", "SWIR")),
        ("swir2", ("SWIR2", "SWIR22")),
        ("scl", ("SCL",)),
    ),
    Radiometry(),
)
# Plain band numbers that Sentinel-2 and Landsat both write (B1 ... B8): only names all sensors share.
BAND_NUMBERS = SensorProfile("numbers", "Sentinel-2 or Landsat (plain band numbers)", GENERIC.roles, Radiometry())
PROFILES = {p.key: p for p in (SENTINEL2, LANDSAT89, LANDSAT457, LANDSAT_UNKNOWN, SENTINEL1, GENERIC, BAND_NUMBERS)}
_S2_ONLY = {"B8A", "B12", "TCI_R", "SCL", "REDEDGE1", "REDEDGE2", "REDEDGE3"}
BY_PRODUCT = {"sentinel2": SENTINEL2, "landsat_oli": LANDSAT89, "landsat_etm": LANDSAT457, "landsat_tm": LANDSAT457}

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


def sensor_label(profile: SensorProfile, level: str) -> str:
    """The sensor and product level as logs name them: ``Sentinel-2 MSI L2A``; a Landsat profile with the level
    its product gives (``Landsat 8/9 OLI (Collection 2 Level-1, L1TP)``), not the Level-2 of its label."""
    if not level:
        return profile.label
    if profile.key.startswith("landsat"):
        code = level.upper()
        stage = "Level-2" if code.startswith("L2") else "Level-1" if code.startswith("L1") else code
        detail = f", {code}" if code not in ("L1", "L2", stage) else ""
        return f"{profile.label.split(' (')[0]} (Collection 2 {stage}{detail})"
    return f"{profile.label} {level}"


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


def detect_sensor(ds: gdal.Dataset, info: ProductInfo | None = None) -> SensorProfile:
    """The sensor of ``ds``: from its product (metadata, MTL, product id) when known, else its band names.

    ``GENERIC`` when nothing matches; ``LANDSAT_UNKNOWN`` for Landsat band names whose generation
    (OLI or TM/ETM+, whose ``SR_B`` numbers mean different bands) nothing tells.
    """
    info = info if info is not None else product_info(ds)
    by_names = sensor_from_names([n for i in range(1, ds.RasterCount + 1) for n in band_names(ds, i)])
    if info.sensor in BY_PRODUCT:
        if "sensor" in info.from_name_only and by_names not in (LANDSAT_UNKNOWN, BAND_NUMBERS, GENERIC):
            return by_names  # a short token (L7) in a name only settles what the band set leaves open
        return BY_PRODUCT[info.sensor]
    return by_names


def sensor_from_names(band_names: Iterable[str]) -> SensorProfile:
    """Guess the sensor from plain band names (no dataset needed, e.g. names shown by a GUI).

    Landsat generations are told apart by the band set only (OLI has ``SR_B6``/``ST_B10``, or
    ``B10``/``B11`` among plain names; TM/ETM+ ``ST_B6``), never by the shared ``SR_`` prefix or the
    plain ``B1``..``B7`` that both generations write.
    """
    raw = [n.strip().upper() for n in band_names]
    names = {canonical_band_name(n) for n in raw}
    if names & {"VV", "VH", "HH", "HV", "SIGMA0_VV", "SIGMA0_VH"}:
        return SENTINEL1
    thermal_oli = bool(names & {"B10", "B11"}) and not names & _S2_ONLY  # TIRS B10/B11: Landsat 8/9 only
    if any(n.startswith(("SR_B", "ST_B", "QA_PIXEL")) for n in raw):
        if {"SR_B6", "ST_B10", "ST_B11", "SR_QA_AEROSOL"} & set(raw) or thermal_oli:
            return LANDSAT89
        if "ST_B6" in raw:
            return LANDSAT457
        return LANDSAT_UNKNOWN
    if any(n.startswith("B6_VCID") for n in raw):  # ETM+ thermal gains: Landsat 7
        return LANDSAT457
    if names & _S2_ONLY:
        return SENTINEL2
    landsat_like = {"B5", "B7"} <= names or {"B5", "B6"} <= names
    if landsat_like:
        # Plain B1..B7 are both Landsat generations (NIR is B5 on OLI, B4 on TM/ETM+), and with B8 (panchromatic
        # on Landsat, NIR on Sentinel-2) Sentinel-2 too; TIRS B10/B11 are Landsat 8/9's only.
        if thermal_oli:
            return LANDSAT89
        return BAND_NUMBERS if "B8" in names else LANDSAT_UNKNOWN
    if names & {"B8", "B11"}:
        return SENTINEL2
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
    if index is None and profile is LANDSAT_UNKNOWN:
        raise BandNotFoundError(
            f"The {label}'s Landsat band names do not say whether it is Landsat 8/9 OLI or Landsat 4-7 TM/ETM+, "
            f"whose band numbers mean different bands (NIR is SR_B5 or B5 on OLI, SR_B4 or B4 on TM/ETM+): "
            f"keep the *_MTL.txt file or the product id (LC08_, LE07_, LT05_ ...) with the file, or choose the "
            f"{role.upper()} band."
        )
    if index is None and profile is BAND_NUMBERS:
        raise BandNotFoundError(
            f"The {label}'s bands are plain numbers (B1 ... B8) that Sentinel-2 and Landsat number differently (NIR "
            f"is B8 on Sentinel-2, B5 on Landsat 8/9, B4 on Landsat 4-7; B8 is panchromatic on Landsat): keep the "
            f"product metadata or product id with the file, or choose the {role.upper()} band."
        )
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
