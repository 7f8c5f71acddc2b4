"""How stored values become reflectance, decided per date, and a plausibility check afterwards.

Automatic conversion reads, in order: the band's own scale/offset; the product metadata and file
names (:mod:`.products`: Sentinel-2 baseline and offsets, Landsat MTL scale per band, product ids);
values that are reflectance already; and for Sentinel-2 digital numbers, values below 1000 DN,
which rule out the baseline-04.00 offset (+1000) because they would be negative reflectance.
When none of these decides, the run stops before any output and asks (as the Sentinel-1 scale
detection does); it never falls back to the Sentinel-2 rule for another sensor. After conversion,
a date whose reflectances leave -0.2 to 1.2 on more than a small share of its valid pixels stops
the run with the likely cause.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Sequence

import numpy as np

from ..errors import ParameterError
from .products import S2_OFFSET_DATE, ProductInfo
from .raster import Radiometry, band_radiometry

RADIOMETRY_CHOICES = (
    ("auto", "Automatic (band metadata, product metadata, or value range)"),
    ("s2_dn", "Sentinel-2 DN / 10000 (offset already removed, or before baseline 04.00)"),
    ("s2_dn_offset", "Sentinel-2 (DN - 1000) / 10000 (processing baseline 04.00 or later)"),
    ("landsat_c2", "Landsat 8/9 C2 L2: DN x 0.0000275 - 0.2"),
    ("reflectance", "Values are reflectance already (0-1)"),
    ("custom", "Custom scale and offset"),
)
DATE_RADIOMETRY_CHOICES = (("same", "As 'Reflectance conversion' (for both dates)"), *RADIOMETRY_CHOICES)
# The two Sentinel-2 conversions as a question names them: label, parameter value for both dates (RADIOMETRY)
# and for one date (<IMAGE>_RADIOMETRY, whose option 0 is "same"); the command line takes the key.
S2_CHOICE_HELP = (
    "'Sentinel-2 DN / 10000' (RADIOMETRY=1, or the date's own <IMAGE>_RADIOMETRY=2; s2_dn on the command line)",
    "'(DN - 1000) / 10000' (RADIOMETRY=2, or <IMAGE>_RADIOMETRY=3; s2_dn_offset on the command line)",
)
S2_DN = Radiometry(1e-4, 0.0, "Sentinel-2 DN / 10000")
S2_DN_OFFSET = Radiometry(1e-4, -0.1, "Sentinel-2 (DN - 1000) / 10000")
LANDSAT_C2 = Radiometry(2.75e-5, -0.2, "Landsat C2 L2: DN x 0.0000275 - 0.2")
IDENTITY = Radiometry(1.0, 0.0, "values used as reflectance")
PLAUSIBLE = (-0.2, 1.2)
IMPLAUSIBLE_SHARE = 0.02  # more than this share of valid values outside PLAUSIBLE stops the run
# The baseline-04.00 offset (+1000 DN) makes values below 1000 DN negative reflectance. Products have some
# (dark water after atmospheric correction, a few hundredths below 0), so the offset is ruled out only by
# values that no product holds: below 500 DN (reflectance under -0.05) on DEEP_SHARE of a band, or below
# 1000 DN on WIDE_SHARE of a band (negative reflectance over a fifth of an image).
DEEP_DN, DEEP_SHARE = 500.0, 0.005
WIDE_SHARE = 0.2
DARK_P99 = 0.03  # every band's 99th percentile below this reflectance: a display stretch or percent values
_LANDSAT_NUMBER = re.compile(r"^(?:SR_)?B(\d{1,2})$", re.I)


def fixed_radiometry(choice: str, custom: Radiometry | None = None) -> Radiometry | None:
    """The conversion a user's explicit ``choice`` means, None for ``auto``; raises :class:`ParameterError`."""
    fixed = {"s2_dn": S2_DN, "s2_dn_offset": S2_DN_OFFSET, "landsat_c2": LANDSAT_C2, "reflectance": IDENTITY}
    if choice in fixed:
        return fixed[choice]
    if choice == "custom":
        if custom is None:
            raise ParameterError("A custom scale and offset were asked for but not given.")
        return Radiometry(custom.scale, custom.offset, f"custom: value x {custom.scale:g} + {custom.offset:g}")
    if choice != "auto":
        raise ParameterError(f"Unknown reflectance conversion '{choice}'.")
    return None


def _looks_like_reflectance(samples: Mapping[int, np.ndarray]) -> bool:
    values = [s for s in samples.values() if s.size]
    return bool(values) and all(float(np.percentile(s, 99)) <= 1.5 for s in values)


def offset_ruled_out(samples: Sequence[np.ndarray]) -> str:
    """Why raw Sentinel-2 values (1-D, valid DN) cannot carry the +1000 offset, or '' when they can."""
    for raw in samples:
        if raw.size == 0:
            continue
        deep = float(np.mean((raw > 0) & (raw < DEEP_DN)))
        wide = float(np.mean((raw > 0) & (raw < 1000)))
        if deep >= DEEP_SHARE:
            return f"{100 * deep:.1f} % of the values are below {DEEP_DN:g} DN"
        if wide >= WIDE_SHARE:
            return f"{100 * wide:.0f} % of the values are below 1000 DN"
    return ""


def _s2_auto(
    info: ProductInfo, samples: Mapping[int, np.ndarray], label: str, more: Callable[[], list[np.ndarray]]
) -> Radiometry:
    quant = info.quantification or 10000.0
    evidence = [*samples.values(), *more()]
    why_not = offset_ruled_out(evidence)
    if info.offset_dn is not None:
        where = "; ".join(info.evidence) or "product metadata"
        weak = "offset" in info.from_name_only
        if info.offset_dn < 0 and why_not and (weak or "below 500" in why_not):
            raise ParameterError(
                f"The {label}'s product {'name' if weak else 'metadata'} says processing baseline "
                f"{info.baseline or 4:05.2f} (+1000 DN offset) but {why_not}, which would be negative reflectance: "
                "the file was probably exported with the offset removed. Choose its reflectance conversion "
                f"({S2_CHOICE_HELP[0]} if the offset was removed)."
            )
        return Radiometry(
            1.0 / quant, info.offset_dn / quant, f"Sentinel-2 (DN {info.offset_dn:+g}) / {quant:g} ({where})"
        )
    if why_not:
        return Radiometry(
            1.0 / quant,
            0.0,
            f"Sentinel-2 digital numbers / {quant:g} ({why_not}, so no +1000 offset: before baseline 04.00 or an "
            "export that removed it)",
        )
    date = f" acquired {info.acquired}" if info.acquired else ""
    raise ParameterError(
        f"Cannot tell whether the {label} (Sentinel-2{date}) still carries the baseline-04.00 offset of +1000 DN: "
        "no product metadata (MTD_MSIL*.xml, product name with N0400 or later) is with the file and its values fit "
        f"both. Choose its reflectance conversion: {S2_CHOICE_HELP[0]} for products before 25 January 2022 or "
        f"exports that removed the offset, {S2_CHOICE_HELP[1]} for baseline 04.00 or later."
    )


def _landsat_auto(
    info: ProductInfo, names: Mapping[int, str], samples: Mapping[int, np.ndarray], label: str
) -> dict[int, Radiometry]:
    out = {}
    for index in samples:
        match = _LANDSAT_NUMBER.match(names.get(index, ""))
        number = int(match.group(1)) if match else None
        if number in info.landsat_scale:
            mult, add = info.landsat_scale[number]
            out[index] = Radiometry(mult, add, f"DN x {mult:g} {add:+g} (the product's MTL file, band {number})")
    missing = [i for i in samples if i not in out]
    if not missing:
        return out
    level2 = info.level.upper().startswith("L2")
    named = all(names.get(i, "").upper().startswith("SR_B") for i in missing)
    dn = all(s.size == 0 or float(np.percentile(s, 5)) >= 5000 for i, s in samples.items() if i in missing)
    if level2 or (named and dn):
        why = "Collection 2 Level-2 product" if level2 else "SR_ band names and Collection 2 Level-2 values"
        for index in missing:
            out[index] = Radiometry(LANDSAT_C2.scale, LANDSAT_C2.offset, f"{LANDSAT_C2.source} ({why})")
        return out
    if info.level.upper().startswith("L1"):
        raise ParameterError(
            f"The {label} is a Landsat Level-1 product ({info.level.upper()} in its name) whose top-of-atmosphere "
            "scale is only in its _MTL.txt file, which is not with the file: keep the MTL file beside it (or give the "
            "product folder), or choose a custom conversion with its REFLECTANCE_MULT_BAND / REFLECTANCE_ADD_BAND "
            "values."
        )
    raise ParameterError(
        f"Cannot tell how the {label}'s Landsat values become reflectance: no MTL file or product id (LC08_L2SP_ "
        "...) is with the file and the values do not look like Collection 2 Level-2 surface reflectance. Choose its "
        "reflectance conversion."
    )


def decide_radiometry(
    sensor: str,
    info: ProductInfo,
    samples: Mapping[int, np.ndarray],
    names: Mapping[int, str],
    own: Mapping[int, Radiometry | None],
    choice: str,
    custom: Radiometry | None,
    label: str,
    more: Callable[[], list[np.ndarray]] = list,
) -> dict[int, Radiometry]:
    """The conversion of each band of one date (1-based band -> :class:`Radiometry`).

    ``samples`` are each band's raw valid values (1-D), ``names`` its name, ``own`` the scale
    and offset its file declares; ``more`` returns the raw valid values of the file's other
    bands of the same product (a visible band often settles the Sentinel-2 offset question).
    Raises :class:`ParameterError` with one sentence (what is unknown, and which choice to
    make) when ``auto`` cannot decide beyond doubt.
    """
    fixed = fixed_radiometry(choice, custom)
    if fixed is not None:
        return {index: fixed for index in samples}
    out = {i: r for i, r in own.items() if r is not None}
    rest = {i: s for i, s in samples.items() if i not in out}
    if not rest:
        return out
    if _looks_like_reflectance(rest):
        return {**out, **{i: Radiometry(1.0, 0.0, "values already look like reflectance (0-1)") for i in rest}}
    if sensor == "sentinel2":
        rad = _s2_auto(info, rest, label, more)
        return {**out, **{i: rad for i in rest}}
    if sensor.startswith("landsat"):
        return {**out, **_landsat_auto(info, names, rest, label)}
    raise ParameterError(
        f"Cannot tell how the {label}'s values become reflectance: its bands are not named after a known sensor "
        "(Sentinel-2, Landsat) and carry no scale, and the values are not reflectance (0-1). Choose its "
        "reflectance conversion."
    )


def check_plausible(
    samples: Mapping[int, np.ndarray],
    conversions: Mapping[int, Radiometry],
    names: Mapping[int, str],
    label: str,
    automatic: bool = False,
) -> None:
    """Raise :class:`ParameterError` when a band's converted values leave -0.2..1.2 on more than 2 % of pixels,
    or (for an ``automatic`` conversion) when every band stays below :data:`DARK_P99` reflectance at its
    99th percentile: 8-bit display stretches and percent values pass the range check but are not DN.

    ``samples`` are 1-D raw valid values per 1-based band, ``conversions`` their conversion.
    """
    for index, raw in samples.items():
        if raw.size == 0 or index not in conversions:
            continue
        rad = conversions[index]
        values = raw * rad.scale + rad.offset
        outside = (values < PLAUSIBLE[0]) | (values > PLAUSIBLE[1])
        share = float(outside.mean())
        if share > IMPLAUSIBLE_SHARE:
            lo, hi = np.percentile(values, [1, 99])
            raise ParameterError(
                f"After the conversion '{rad.source}', {100 * share:.0f} % of the {label}'s "
                f"{names.get(index) or f'band {index}'} values are not reflectance (1st-99th percentile "
                f"{lo:.3g} to {hi:.3g}, expected -0.2 to 1.2): {_likely_cause(raw, rad)} Choose the reflectance "
                "conversion of this date."
            )
    used = [i for i, raw in samples.items() if raw.size and i in conversions]
    converted = [samples[i] * conversions[i].scale + conversions[i].offset for i in used]
    if automatic and converted and max(float(np.percentile(v, 99)) for v in converted) < DARK_P99:
        source = next(iter(conversions.values())).source
        raise ParameterError(
            f"After the conversion '{source}', the {label} would be almost black (every band's 99th percentile below "
            f"{DARK_P99:g} reflectance): its values are probably an 8-bit display stretch or percent, not digital "
            "numbers. Choose the reflectance conversion of this date."
        )


def _likely_cause(raw: np.ndarray, rad: Radiometry) -> str:
    p50 = float(np.median(raw))
    for candidate in (S2_DN, LANDSAT_C2, IDENTITY):
        value = p50 * candidate.scale + candidate.offset
        if candidate != rad and 0.0 <= value <= 0.6:
            return f"the values look like {candidate.source}."
    return "the file's scale is not the one assumed."


def own_radiometry(ds: object, indices: Sequence[int]) -> dict[int, Radiometry | None]:
    """The scale/offset each band declares in its own metadata (None where it declares none)."""
    return {i: band_radiometry(ds.GetRasterBand(i)) for i in indices}  # type: ignore[attr-defined]


def s2_offset_of(conversions: Mapping[int, Radiometry]) -> float | None:
    """The additive offset (reflectance) of a date's Sentinel-2 DN conversion (``-0.1``: the baseline-04.00
    +1000 DN removed, ``0.0``: none), or None when its bands are not converted from Sentinel-2 DN / 10000."""
    offsets = [r.offset for r in conversions.values() if abs(r.scale - S2_DN.scale) < 1e-12]
    return offsets[0] if offsets else None


def check_fixed_conversion(radiometry: str, dates: Sequence[tuple[str, str, ProductInfo, float | None, bool]]) -> None:
    """Refuse one fixed Sentinel-2 conversion where the dates contradict it (before any pixel is processed).

    ``dates`` holds, per date, ``(label, its own choice, product facts, s2_offset_of(its conversions),
    whether its values rule the offset out (:func:`offset_ruled_out`))``. Products processed from
    baseline 04.00 (acquired from 25 January 2022, ESA's announcement of the change) carry +1000 DN,
    older ones do not unless reprocessed, and some exports remove it (Earth Engine's HARMONIZED
    collections). With ``radiometry`` ``s2_dn`` or ``s2_dn_offset`` the run stops when (1) a date that
    takes this choice (its own choice ``same``) has product metadata or a product name stating the
    other offset, or (2) the known acquisition dates of the first and last date lie on both sides of
    that day, neither date's product states its offset, both end up with the same offset and at least
    one of them takes it from ``radiometry``: one of the two is then probably wrong. Values that rule
    the offset out settle it: ``s2_dn`` is then accepted against a product *name* (not its metadata)
    and across the baseline day. Choosing each date's conversion on its own is always accepted.
    Raises :class:`ParameterError`.
    """
    if radiometry not in ("s2_dn", "s2_dn_offset"):
        return
    removes = radiometry == "s2_dn_offset"
    chosen = S2_CHOICE_HELP[1 if removes else 0].split(" (")[0]
    for label, own, info, _used, ruled_out in dates:
        name_only = "offset" in info.from_name_only
        if name_only and ruled_out and not removes:
            continue  # the values say no offset, as the choice does: a product name does not outweigh them
        if own in ("", "same") and info.offset_dn is not None and (info.offset_dn < 0) != removes:
            says = "the +1000 DN offset of processing baseline 04.00 or later" if info.offset_dn < 0 else "no offset"
            where = "name" if name_only else "metadata"
            raise ParameterError(
                f"The {label}'s product {where} says its values carry {says}, but the conversion chosen for every "
                f"date, {chosen}, assumes {'the offset' if removes else 'none'}. Leave the reflectance conversion "
                "automatic (RADIOMETRY=0), or, if this file's offset was changed after processing, set this date's "
                "own conversion (<IMAGE>_RADIOMETRY)."
            )
    known = sorted(
        (info.acquired[:10], label, own, used, ruled_out)
        for label, own, info, used, ruled_out in dates
        if info.acquired and info.offset_dn is None and used is not None
    )
    if len(known) < 2:
        return
    first, first_label, first_own, first_used, _ = known[0]
    last, last_label, last_own, last_used, settled = known[-1]
    by_date = first_own not in ("", "same") and last_own not in ("", "same")
    settled = settled and last_used == 0.0  # the later date's values rule the offset out, as the choice does
    if by_date or settled or abs(first_used - last_used) > 1e-9 or not first < S2_OFFSET_DATE.isoformat() <= last:
        return
    raise ParameterError(
        f"The {first_label} (acquired {first}) and the {last_label} (acquired {last}) lie on both sides of the "
        "Sentinel-2 processing baseline 04.00 (25 January 2022), which added +1000 DN to later products, so one "
        "reflectance conversion for both dates is right for only one of them unless your files had the offset "
        "removed (e.g. Earth Engine's HARMONIZED collections). Choose each date's conversion: <IMAGE>_RADIOMETRY=2 "
        "('Sentinel-2 DN / 10000') for the earlier date and <IMAGE>_RADIOMETRY=3 ('(DN - 1000) / 10000') for the "
        "later one, or =2 for both when the offset was removed (s2_dn / s2_dn_offset on the command line)."
    )
