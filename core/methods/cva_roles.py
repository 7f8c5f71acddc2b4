"""Which bands change vectors compare when the two dates come from sensors that number their bands differently.

Band numbers mean different wavelengths on Sentinel-2, Landsat 8/9 OLI and Landsat 4-7 TM/ETM+ (``SR_B4`` is red
on OLI and NIR on TM/ETM+; ``B8`` is NIR on Sentinel-2 and panchromatic on Landsat), so two such dates are
compared band by band through the spectral **role** each band plays (blue, green, red, NIR, SWIR1, SWIR2), never
by their numbers. A band ``BANDS`` names is matched by its role, or refused in one sentence when its role differs
between the dates or it plays none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Sequence

from ..errors import BandNotFoundError, InputError
from ..io.raster import canonical_band_name
from ..io.sensors import SensorProfile

MATCH_ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
_LOOKUP = {"nir": ("nir_narrow", "nir")}  # Sentinel-2 B8A (865 nm) first: Landsat's NIR is that narrow band
KNOWN = ("sentinel2", "landsat89", "landsat457")  # sensors whose band numbers say the band
AMBIGUOUS = ("landsat", "numbers")  # Landsat of unknown generation, plain numbers of Sentinel-2 or Landsat
ROLE_HELP = "name the bands by role (BANDS=blue,green,red,nir,swir1,swir2, matched on both dates) or leave BANDS empty"


@dataclass(frozen=True)
class DateBands:
    """One date's band names as it writes them (``names``, producer's spelling), its sensor ``profile``, how
    messages name it (``label``) and ``resolve``: the name a ``BANDS`` entry (a name or number) means on this
    date, or None."""

    label: str
    profile: SensorProfile
    names: tuple[str, ...]
    resolve: Callable[[str], str | None]

    def role_of(self, name: str) -> str | None:
        """The spectral role (one of :data:`MATCH_ROLES`) band ``name`` plays on this sensor, or None."""
        key = canonical_band_name(name)
        for role in MATCH_ROLES:
            for lookup in _LOOKUP.get(role, (role,)):
                if key in {canonical_band_name(c) for c in self.profile.candidates(lookup)}:
                    return role
        return None

    def for_role(self, role: str) -> str | None:
        """This date's band for ``role`` (its sensor's best candidate it has), or None."""
        present = {canonical_band_name(n): n for n in self.names if n}
        for lookup in _LOOKUP.get(role, (role,)):
            for candidate in self.profile.candidates(lookup):
                if canonical_band_name(candidate) in present:
                    return present[canonical_band_name(candidate)]
        return None


def names_differ(first: DateBands, second: DateBands, masks: Collection[str] = ()) -> bool:
    """Whether both dates name their bands (cloud-mask layers ``masks`` aside) and some band of the first has
    no namesake on the second (``B8A`` against ``B08``, ``red`` against ``B04``, another order of other
    names): such dates are matched by spectral role, never by band number."""
    named = [
        [canonical_band_name(n) for n in d.names if n and canonical_band_name(n) not in masks] for d in (first, second)
    ]
    return all(named) and not set(named[0]) <= set(named[1])


def numbering_differs(first: SensorProfile, second: SensorProfile) -> bool:
    """Whether two dates' sensors number their bands differently (and both are known), so that bands must be
    matched by role. Raises :class:`InputError` when one sensor is known and the other's numbers could mean
    either (Landsat of unknown generation, plain ``B1`` ... ``B8``)."""
    keys = (first.key, second.key)
    if first.key == second.key:
        return False
    if all(k in KNOWN for k in keys):
        return True
    if any(k in KNOWN for k in keys) and any(k in AMBIGUOUS for k in keys):
        vague = first if first.key in AMBIGUOUS else second
        known = second if vague is first else first
        raise InputError(
            f"Change vectors compare bands of a {known.label} date with a date whose band names ({vague.label}) do "
            "not say which wavelength each number is, and the two number their bands differently: keep the "
            "product metadata (MTL file, MTD file or product id) with the files, so that bands can be matched "
            "by their role."
        )
    return False


def _describe(date: DateBands, name: str | None, role: str | None) -> str:
    if name is None:
        return f"not a band of the {date.label} ({date.profile.label})"
    if role is None:
        return (
            f"{name} on the {date.label} ({date.profile.label}), which plays no blue, green, red, NIR or SWIR role "
            "there (panchromatic, thermal, cirrus, coastal or red edge)"
        )
    return f"{name} ({role}) on the {date.label} ({date.profile.label})"


def _role_for(spec: str, first: DateBands, second: DateBands) -> str:
    if spec.strip().lower() in MATCH_ROLES:
        return spec.strip().lower()
    names = [d.resolve(spec) for d in (first, second)]
    roles = [d.role_of(n) if n else None for d, n in zip((first, second), names)]
    found = [r for n, r in zip(names, roles) if n is not None]
    if found and all(found) and len(set(found)) == 1:
        return found[0]
    sides = " and ".join(_describe(d, n, r) for d, n, r in zip((first, second), names, roles))
    raise BandNotFoundError(
        f"BANDS names '{spec}', which is {sides}; the two dates number their bands differently, so a band "
        f"number or name cannot be compared as it is: {ROLE_HELP}."
    )


def role_pairs(first: DateBands, second: DateBands, wanted: Sequence[str]) -> list[tuple[str, str, str]]:
    """(band on the first date, band on the second, role) per band compared, matched by spectral role.

    ``wanted`` lists ``BANDS`` entries (role names, band names or numbers); empty means every role of
    :data:`MATCH_ROLES` both dates have. Raises :class:`BandNotFoundError` in one sentence when an entry's role
    differs between the dates or is none, when a date lacks a role, or when fewer than two roles match.
    """
    roles = [_role_for(str(spec), first, second) for spec in wanted] if wanted else list(MATCH_ROLES)
    pairs = []
    for role in dict.fromkeys(roles):
        one, two = first.for_role(role), second.for_role(role)
        if one and two:
            pairs.append((one, two, role))
        elif wanted:
            lacking = first if one is None else second
            raise BandNotFoundError(
                f"The {lacking.label} ({lacking.profile.label}) has no {role} band (its bands: "
                f"{', '.join(n for n in lacking.names if n)}): {ROLE_HELP}."
            )
    if len(pairs) < 2 and not wanted:
        raise BandNotFoundError(
            f"The {first.label} ({first.profile.label}) and the {second.label} ({second.profile.label}) number or "
            f"name their bands differently and share {len(pairs)} of the roles blue, green, red, NIR, SWIR1 and SWIR2: "
            "give dates with at least two of these bands each."
        )
    return pairs


def pairs_text(first: DateBands, second: DateBands, pairs: Sequence[tuple[str, str, str]]) -> str:
    """One log sentence: which band of each date is compared with which, and why by role."""
    listed = ", ".join(f"{a} ({r}) with {b} ({r})" for a, b, r in pairs)
    return (
        f"The {first.label} ({first.profile.label}) and the {second.label} ({second.profile.label}) number or name "
        f"their bands differently: bands are matched by spectral role, {listed}; both dates are converted to "
        "reflectance."
    )
