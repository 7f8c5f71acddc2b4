"""The two dates of change vector analysis: the bands compared, read as stored, no data and clouds masked.

A date may be a product (:mod:`changelens.core.io.stack`): its stack holds the bands named in ``BANDS``
(or every band up to 20 m both products share when ``BANDS`` is empty) at the finest of their pixel sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import BandCountError
from ..io.bandfiles import default_names, find_product
from ..io.cloudmask import ROLES as CSMASK_ROLES
from ..io.datemask import date_cloud_mask
from ..io.georef import georeferenced
from ..io.grid import Grid, align_many
from ..io.masks import MSK_CLASSI
from ..io.pair import DateInput, csmask_inputs, no_data_rules
from ..io.raster import BandReader, band_descriptions, canonical_band_name, resolve_band
from ..io.sensors import detect_sensor
from ..io.stack import open_date_raster, stack_for_names
from ..progress import Log, recording

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
    named = [n for n in names1 if n and n not in MASK_BANDS]
    shared = [n for n in named if n in names2]
    if shared and len(shared) == len(named):
        return [(names1.index(n) + 1, names2.index(n) + 1, n) for n in shared]
    if ds1.RasterCount != ds2.RasterCount:
        raise BandCountError(
            f"Date 1 has {ds1.RasterCount} bands and date 2 has {ds2.RasterCount}, with no common band names: "
            "list the bands to compare."
        )
    return [(i, i, names1[i - 1] or f"band {i} (unnamed: taken by its number)") for i in range(1, ds1.RasterCount + 1)]


def _stacked(paths: Sequence[str], wanted: Sequence[str], config: Any, scratch: str, log: Log, used: list) -> tuple:
    """The dates' paths, products replaced by their stacks, and the band names to compare."""
    products = [find_product(p) for p in paths]
    if not any(products):
        return list(paths), list(wanted)
    if not wanted:  # every band up to 20 m that all products share
        lists = [[canonical_band_name(n) for n in default_names(p)] for p in products if p is not None]
        wanted = [n for n in lists[0] if all(n in other for other in lists[1:])]
    extra = CSMASK_ROLES if config.cloud_mask == "csmask" else ()
    out, names = [], list(wanted)
    for path, product, key, label in zip(paths, products, ("before", "after"), LABELS):
        if product is None:
            out.append(path)
            continue
        stack, names = stack_for_names(
            product, wanted, extra, config.cloud_mask != "none", scratch, key, label, config.resampling,
            recording(log, used, label),
        )  # fmt: skip
        out.append(stack)
    return out, names


def open_compared(paths: Sequence[str], config: Any, scratch: str, log: Log) -> Compared:
    """Open both dates (``paths``: rasters or products) with the bands ``config.bands`` on date 1's grid.

    No-data rules of each date's sensor apply to the bands as stored; the dates' cloud masks
    (``config.cloud_mask``) make their pixels no data. Raises :class:`~changelens.core.errors.InputError`
    subclasses before any output.
    """
    used: list[tuple[str, str]] = []
    paths, wanted = _stacked(paths, config.bands, config, scratch, log, used)
    ds1, ds2 = (
        georeferenced(
            open_date_raster(path, label), label, config.pixel_aligned, config.resampling, recording(log, used, label)
        )
        for path, label in zip(paths, LABELS)
    )
    bands = pick_bands(ds1, ds2, wanted)
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
        date_readers = [BandReader(ds, b[n - 1], view, fill=rules.fills.get(b[n - 1])) for b in bands]
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
