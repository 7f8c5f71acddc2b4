"""The bands a run takes from a product (:mod:`.bandfiles`): by role, by the names or numbers a user gives, or
the default set when none are named."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..errors import BandNotFoundError
from .bandfiles import BandFile, Product
from .raster import BandSpec, canonical_band_name
from .sensors import BY_PRODUCT, SensorProfile, sensor_from_names

S2_60M = ("B1", "B9", "B10")  # Sentinel-2's 60 m bands: only in a stack when asked for
DEFAULT_RULE = (
    "the reflective bands at the sensor's multispectral pixel size (Sentinel-2 up to 20 m, Landsat 30 m); "
    "thermal, cirrus, panchromatic and Sentinel-2's 60 m bands are left out"
)


def product_profile(product: Product) -> SensorProfile:
    """The sensor of a product: from its metadata or file names, else from its band names."""
    if product.info.sensor in BY_PRODUCT:
        return BY_PRODUCT[product.info.sensor]
    return sensor_from_names(product.names())


def _by_number(product: Product, number: int, label: str) -> BandFile:
    found = product.band(f"B{number}")
    if found is None:
        raise BandNotFoundError(
            f"The {label} ({product.title}) has no band {number} (its bands: {', '.join(product.names())}): give a "
            "band name or leave the band empty to detect it."
        )
    return found


def bands_for_roles(
    product: Product,
    roles: Sequence[str],
    optional: Sequence[str],
    choices: Mapping[str, BandSpec | None],
    label: str,
) -> dict[str, BandFile]:
    """The band file of each role: the user's choice (a name, or a number meaning the producer's band
    number: 8 = ``B8``/``B08``, 5 = ``SR_B5``), else the product sensor's best candidate.

    A required role no band plays raises :class:`BandNotFoundError` naming the product's bands.
    """
    profile = product_profile(product)
    out: dict[str, BandFile] = {}
    for role in roles:
        choice = choices.get(role)
        if isinstance(choice, str) and choice.strip().isdigit():
            choice = int(choice.strip())
        if isinstance(choice, int) and choice > 0:
            out[role] = _by_number(product, choice, label)
            continue
        if isinstance(choice, str) and choice.strip():
            found = product.band(choice) or product.masks.get(canonical_band_name(choice))
            if found is None:
                raise BandNotFoundError(
                    f"The {label} ({product.title}) has no band named '{choice}' (its bands: "
                    f"{', '.join(product.names())})."
                )
            out[role] = found
            continue
        candidates = profile.candidates(role)
        found = next((product.band(c) for c in candidates if product.band(c)), None)
        if found is None and role in ("scl", "qa"):
            continue  # masks are added with the product's other mask layers
        if found is None and role not in optional:
            raise BandNotFoundError(
                f"The {label} ({product.title}, {profile.label}) has no band for {role.upper()} (looked for "
                f"{' or '.join(candidates) or role}; its bands: {', '.join(product.names())})."
            )
        if found is not None:
            out[role] = found
    return out


def bands_by_name(product: Product, names: Sequence[str], label: str) -> list[BandFile]:
    """The band files named ``names`` (names or producer's band numbers); every band up to 20 m when empty."""
    if names:
        return [
            _by_number(product, int(n), label) if str(n).strip().isdigit() else _named(product, str(n), label)
            for n in names
        ]
    return [product.bands[canonical_band_name(n)] for n in default_names(product)]


def default_names(product: Product) -> list[str]:
    """The bands a run takes when none are named (:data:`DEFAULT_RULE`): the reflective bands at the sensor's
    multispectral pixel size. Sentinel-2: every band but its 60 m ones (B1, B9, B10); Landsat of a known
    generation: the bands of its coastal, blue, green, red, NIR and SWIR roles (30 m; never panchromatic B8,
    cirrus B9 or thermal B6/B10/B11); other products: every band."""
    profile = product_profile(product)
    if profile.key == "sentinel2":
        return [b.name for key, b in product.bands.items() if key not in S2_60M]
    if profile.key in ("landsat89", "landsat457"):
        roles = ("coastal", "blue", "green", "red", "nir", "swir1", "swir2")
        reflective = {canonical_band_name(c) for role in roles for c in profile.candidates(role)}
        return [b.name for key, b in product.bands.items() if key in reflective]
    return [b.name for b in product.bands.values()]


def _named(product: Product, name: str, label: str) -> BandFile:
    found = product.band(name)
    if found is None:
        raise BandNotFoundError(
            f"The {label} ({product.title}) has no band named '{name}' (its bands: {', '.join(product.names())})."
        )
    return found
