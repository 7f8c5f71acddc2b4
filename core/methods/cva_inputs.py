"""The two dates of change vector analysis: the bands compared, read as stored, no data and clouds masked.

A date may be a product (:mod:`changelens.core.io.stack`): its stack holds the bands named in ``BANDS``
(or every band up to 20 m both products share when ``BANDS`` is empty) at the finest of their pixel sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import BandCountError, BandNotFoundError
from ..io.bandfiles import Product, find_product
from ..io.bandpick import DEFAULT_RULE, default_names, product_profile
from ..io.cloudmask import ROLES as CSMASK_ROLES
from ..io.datemask import date_cloud_mask
from ..io.georef import georeferenced
from ..io.grid import Grid, align_many
from ..io.masks import MSK_CLASSI
from ..io.pair import DateInput, csmask_inputs, no_data_rules, plan_date
from ..io.raster import (
    BandReader,
    Radiometry,
    band_descriptions,
    band_names,
    canonical_band_name,
    find_band_by_name,
    open_raster,
    resolve_band,
)
from ..io.sensors import detect_sensor
from ..io.stack import open_date_raster, stack_for_names
from ..progress import Log, recording
from .cva_roles import DateBands, names_differ, numbering_differs, pairs_text, role_pairs

LABELS = ("date 1 image", "date 2 image")
MASK_BANDS = {"SCL", "QA_PIXEL", *MSK_CLASSI}


@dataclass
class Compared:
    """Both dates on date 1's grid: ``bands`` as (band in date 1, band in date 2, name), readers ``d1_<k>``
    and ``d2_<k>`` per compared band, and the reading decisions per date (``used``)."""

    grid: Grid
    readers: dict[str, BandReader]
    bands: list[tuple[int, int, str]]
    used: list[tuple[str, str]] = field(default_factory=list)
    keep: list[Any] = field(default_factory=list)


def pick_bands(ds1: Any, ds2: Any, wanted: Sequence[str]) -> list[tuple[int, int, str]]:
    """(band number in date 1, band number in date 2, name) per band compared.

    ``wanted`` lists names or numbers; empty means every band both dates share by name (or
    all bands, in order, when neither names them), cloud-mask layers (SCL, QA_PIXEL, MSK_CLASSI) aside.
    Raises :class:`BandCountError` or :class:`~changelens.core.errors.BandNotFoundError` with one sentence.
    """
    names1, names2 = band_descriptions(ds1), band_descriptions(ds2)
    if wanted:
        out = []
        for spec in wanted:
            i1 = resolve_band(ds1, spec, LABELS[0])
            i2 = resolve_band(ds2, spec, LABELS[1])
            out.append((i1, i2, names1[i1 - 1] or f"band {i1}"))
        return out
    keys1, keys2 = ([canonical_band_name(n) if n else "" for n in names] for names in (names1, names2))
    named = [k for k in keys1 if k and k not in MASK_BANDS]
    if named and all(k in keys2 for k in named):
        return [(keys1.index(k) + 1, keys2.index(k) + 1, names1[keys1.index(k)]) for k in named]
    if any(keys1) and any(keys2):  # both dates name their bands and the names differ: never by position
        one, two = (", ".join(n or "?" for n in names) for names in (names1, names2))
        raise BandNotFoundError(
            f"Date 1's bands ({one}) and date 2's ({two}) are named differently: list the bands to compare "
            "(BANDS=...) or give both dates the same band names."
        )
    if ds1.RasterCount != ds2.RasterCount:
        raise BandCountError(
            f"Date 1 has {ds1.RasterCount} bands and date 2 has {ds2.RasterCount}, with no common band names: "
            "list the bands to compare."
        )
    unnamed = "date 2" if any(keys1) else "date 1" if any(keys2) else "both dates"
    return [
        (i, i, f"{names1[i - 1] or names2[i - 1] or f'band {i}'} ({unnamed} unnamed: band {i} taken by its number)")
        for i in range(1, ds1.RasterCount + 1)
    ]


def _date_bands(path: str, product: Product | None, label: str) -> DateBands:
    """What ``path`` (a product or a raster) holds, for matching bands by role."""
    if product is not None:

        def in_product(spec: str) -> str | None:
            text = spec.strip()
            found = product.band(f"B{int(text)}" if text.isdigit() else text)
            return found.name if found else None

        return DateBands(label, product_profile(product), tuple(product.names()), in_product)
    ds = open_raster(path)
    names = tuple((band_names(ds, i) or [""])[0] for i in range(1, ds.RasterCount + 1))

    def in_raster(spec: str) -> str | None:
        text = spec.strip()
        index = int(text) if text.isdigit() else find_band_by_name(ds, text)
        return names[index - 1] or None if index and 1 <= index <= len(names) else None

    return DateBands(label, detect_sensor(ds), names, in_raster)


def _stacked(paths: Sequence[str], wanted: Sequence[str], config: Any, scratch: str, log: Log, used: list) -> tuple:
    """The dates' paths (products replaced by their stacks), the band names to compare on each date, and the
    (band on date 1, band on date 2, role) pairs when the dates' sensors number bands differently (else None)."""
    products = [find_product(p) for p in paths]
    dates = [_date_bands(p, product, label) for p, product, label in zip(paths, products, LABELS)]
    pairs = None
    if numbering_differs(dates[0].profile, dates[1].profile) or (
        not any(products) and names_differ(dates[0], dates[1], MASK_BANDS)
    ):
        pairs = role_pairs(dates[0], dates[1], wanted)
        log(pairs_text(dates[0], dates[1], pairs))
        per_date = [[p[0] for p in pairs], [p[1] for p in pairs]]
    elif not wanted and any(products):  # the default band set every product shares
        lists = [[canonical_band_name(n) for n in default_names(p)] for p in products if p is not None]
        shared = [n for n in lists[0] if all(n in other for other in lists[1:])]
        log(f"BANDS empty: {DEFAULT_RULE}.")
        per_date = [shared, shared]
    else:
        per_date = [list(wanted), list(wanted)]
    if not any(products):
        return list(paths), per_date, pairs
    extra = CSMASK_ROLES if config.cloud_mask == "csmask" else ()
    out, names = [], per_date[0]
    for path, product, key, label, wanted_here in zip(paths, products, ("before", "after"), LABELS, per_date):
        if product is None:
            out.append(path)
            continue
        stack, stacked = stack_for_names(
            product, wanted_here, extra, config.cloud_mask != "none", scratch, key, label, config.resampling,
            recording(log, used, label),
        )  # fmt: skip
        out.append(stack)
        names = stacked if pairs is None else names  # same numbering: the names as stacked, on both dates
    return out, (per_date if pairs else [names, names]), pairs


def _reflectance(ds: Any, path: str, label: str, key: str, indices: Sequence[int]) -> dict[int, Radiometry]:
    """Each compared band's automatic reflectance conversion (dates of different sensors are compared as
    reflectance, never as digital numbers of different scales)."""
    roles = tuple(f"band{i}" for i in indices)
    date = DateInput(path, label, dict(zip(roles, indices)), key, roles)
    return plan_date(date, ds, "auto", None).conversions


def open_compared(paths: Sequence[str], config: Any, scratch: str, log: Log) -> Compared:
    """Open both dates (``paths``: rasters or products) with the bands ``config.bands`` on date 1's grid.

    No-data rules of each date's sensor apply to the bands as stored; the dates' cloud masks
    (``config.cloud_mask``) make their pixels no data. Raises :class:`~changelens.core.errors.InputError`
    subclasses before any output.
    """
    used: list[tuple[str, str]] = []
    paths, wanted, pairs = _stacked(paths, config.bands, config, scratch, log, used)
    ds1, ds2 = (
        georeferenced(
            open_date_raster(path, label), label, config.pixel_aligned, config.resampling, recording(log, used, label)
        )
        for path, label in zip(paths, LABELS)
    )
    if pairs:
        bands = [
            (resolve_band(ds1, a, LABELS[0]), resolve_band(ds2, b, LABELS[1]), f"{role} ({a} / {b})")
            for (a, b, role) in pairs
        ]
    else:
        bands = pick_bands(ds1, ds2, wanted[0])
    validity = [no_data_rules(ds, [b[n] for b in bands]) for n, ds in enumerate((ds1, ds2))]
    for label, rules in zip(LABELS, validity):
        if rules.notes:
            recording(log, used, label)(f"{label}: no data: {', '.join(rules.notes)}.")
    warp_fill = {rules.primary for rules in validity[1].fills.values()}
    grid, view1, (view2,) = align_many(
        ds1, [ds2], config.resampling, [warp_fill.pop() if len(warp_fill) == 1 else None]
    )
    readers: dict[str, BandReader] = {}
    keep: list[Any] = [ds1, ds2]
    for n, (ds, view, rules, label, key) in enumerate(
        zip((ds1, ds2), (view1, view2), validity, LABELS, ("before", "after")), start=1
    ):
        indices = [b[n - 1] for b in bands]
        conversions = _reflectance(ds, paths[n - 1], label, key, indices) if pairs else {}
        date_readers = [BandReader(ds, i, view, conversions.get(i), rules.fills.get(i)) for i in indices]
        if pairs:
            sources = "; ".join(dict.fromkeys(c.source for c in conversions.values()))
            recording(log, used, label)(f"{label}: reflectance: {sources}.")
        readers.update({f"d{n}_{k}": reader for k, reader in enumerate(date_readers)})
        date = DateInput(paths[n - 1], label, {}, key, cloud_mask=config.cloud_mask)
        sensor = detect_sensor(ds).key
        mask = date_cloud_mask(
            ds, view, grid, config.cloud_mask, {}, date_readers, csmask_inputs(date, ds, "auto", None), scratch, key,
            label, recording(log, used, label), sensor == "sentinel2" or sensor.startswith("landsat"),
        )  # fmt: skip
        for reader in date_readers:
            reader.mask = mask
        keep.append(view)
    return Compared(grid, readers, bands, used, keep)
