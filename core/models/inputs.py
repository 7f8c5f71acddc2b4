"""Model inputs: find the model's bands in the images, align the images, prepare tile values.

Bands are found by description (``B04`` == ``B4``, ``VV``, ``DEM``) or taken by number;
a missing band is one error that names every missing band and the bands the image has.
The images are put on the first one's grid (and optionally resampled to the pixel size
the model was trained at); tiles are read window by window and prepared as the
metadata says, with no data filled and reported in a mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from osgeo import gdal

from ..errors import BandNotFoundError, EmptyDataError, InputError, ParameterError
from ..io.bandfiles import find_product
from ..io.cloudmask import ROLES as CSMASK_ROLES
from ..io.datemask import date_cloud_mask
from ..io.georef import georeferenced
from ..io.grid import Grid, align_many, grid_of, ground_pixel_size_m, metres_per_degree, pixel_size_text, warp_to_grid
from ..io.pair import DateInput, check_plan_conversions, csmask_inputs, plan_date
from ..io.raster import BandReader, Radiometry, band_descriptions, find_band_by_name
from ..io.sensors import SENTINEL1
from ..io.stack import open_date_raster, stack_for_names
from ..io.terrain import slope_reader
from ..io.windows import Window
from ..progress import Log, no_log, recording
from .meta import ModelMeta

DATE_LABELS = {1: ("image",), 2: ("before image", "after image")}


@dataclass
class PreparedInputs:
    """Readers per (date, band) on one grid, with the per-band preparation, and terrain readers."""

    grid: Grid
    readers: list[list[BandReader]]
    stats: list[list[tuple[float | None, float | None]]]
    datasets: tuple[Any, ...]
    terrain: list[BandReader] = field(default_factory=list)
    used: list[tuple[str, str]] = field(default_factory=list)  # how each date was read (the report's table)


def _band_indices(
    meta: ModelMeta, ds: gdal.Dataset, label: str, model: str, numbers: tuple[int, ...] | None
) -> list[int]:
    if numbers is not None:
        if len(numbers) != len(meta.bands):
            raise ParameterError(
                f"Model '{model}' needs {len(meta.bands)} band(s) ({', '.join(b.band for b in meta.bands)}) "
                f"but {len(numbers)} band number(s) were given."
            )
        if max(numbers) > ds.RasterCount:
            raise BandNotFoundError(f"The {label} has {ds.RasterCount} band(s); band {max(numbers)} does not exist.")
        return list(numbers)
    indices: list[int] = []
    missing: list[str] = []
    for prep in meta.bands:
        index = prep.index if prep.index is not None else find_band_by_name(ds, prep.band)
        if index is None or index > ds.RasterCount:
            missing.append(prep.band)
        else:
            indices.append(index)
    if missing:
        known = ", ".join(n or f"#{i}" for i, n in enumerate(band_descriptions(ds), start=1))
        raise BandNotFoundError(
            f"The {label} lacks band(s) {', '.join(missing)} that model '{model}' needs (its bands: {known}); "
            "give the band numbers to use in the parameters, or use an image whose band descriptions name them."
        )
    return indices


def _model_grid(grid: Grid, pixel_size_m: float) -> Grid:
    """``grid``'s extent with square pixels of ``pixel_size_m`` metres (approximate for geographic CRSs)."""
    srs = grid.srs()
    if srs is None:
        raise InputError("The image has no coordinate reference system, so it cannot be resampled to metres.")
    xmin, ymin, xmax, ymax = grid.bounds
    if srs.IsGeographic():
        per_deg_x, per_deg_y = metres_per_degree((ymin + ymax) / 2.0)
        step_x = pixel_size_m / max(per_deg_x, 1e-6)
        step_y = pixel_size_m / per_deg_y
    else:
        step_x = step_y = pixel_size_m / (srs.GetLinearUnits() or 1.0)
    width = max(int(round((xmax - xmin) / step_x)), 1)
    height = max(int(round((ymax - ymin) / step_y)), 1)
    return Grid(grid.crs_wkt, (xmin, step_x, 0.0, ymax, 0.0, -step_y), width, height)


def _off_model_size(size: tuple[float, float] | None, model_m: float | None) -> bool:
    """True when the model's pixel size lies outside the image's two axes (5 % tolerance)."""
    if not size or not model_m:
        return False
    return not min(size) * 0.95 <= model_m <= max(size) * 1.05


def prepare_inputs(
    meta: ModelMeta,
    images: Sequence[str],
    model: str,
    band_numbers: tuple[int, ...] | None = None,
    resample_to_model: bool = False,
    resampling: str = "bilinear",
    log: Log = no_log,
    dem: str | None = None,
    folder: str | None = None,
    radiometry: str = "auto",
    date_radiometry: Sequence[str] = (),
    pixel_aligned: bool = False,
    cloud_mask: str = "auto",
) -> PreparedInputs:
    """Open, band-map, align and (optionally) resample the images; per-scene statistics when asked.

    ``band_numbers`` (one per model band) replaces the lookup by band description. Models with
    terrain channels get slope (degrees) from ``dem``, computed on the DEM's own grid into
    ``folder`` (a scratch folder) and resampled onto the images' grid. Each date is read as the
    index methods read it (no-data conventions, and for models that take reflectance the
    conversion: ``radiometry`` for both dates unless ``date_radiometry`` names one per date). An image
    given as a product is read from a stack of the model's bands built in ``folder``; each date's cloud
    mask (``cloud_mask``) makes its pixels no data in every band, as for the index methods.
    """
    labels = DATE_LABELS[meta.dates]
    if len(images) != meta.dates:
        raise InputError(
            f"Model '{model}' takes {meta.dates} image(s) ({' and '.join(labels)}) but {len(images)} were given."
        )
    used: list[tuple[str, str]] = []
    images, stacked = _products(meta, images, labels, band_numbers, cloud_mask, resampling, folder, log, used)
    datasets = [
        georeferenced(open_date_raster(p, label), label, pixel_aligned, resampling, recording(log, used, label))
        for p, label in zip(images, labels)
    ]
    indices = [
        list(range(1, len(meta.bands) + 1)) if stack else _band_indices(meta, ds, label, model, band_numbers)
        for ds, label, stack in zip(datasets, labels, stacked)
    ]
    convert = meta.values == "reflectance"
    plans = []
    for k, (path, ds, idx, label) in enumerate(zip(images, datasets, indices, labels)):
        roles = {f"band{b}": index for b, index in enumerate(idx)}
        own = date_radiometry[k] if k < len(date_radiometry) else "same"
        date = DateInput(path, label, roles, label, tuple(roles), radiometry=own)
        plans.append(plan_date(date, ds, radiometry, None, convert))
    if convert:
        check_plan_conversions(radiometry, plans)
    if len(datasets) == 1:
        grid, views = grid_of(datasets[0]), [datasets[0]]
    else:
        fills = [next(iter({p.validity.fills[i].primary for i in idx}), None) for p, idx in zip(plans[1:], indices[1:])]
        grid, ref_view, others = align_many(datasets[0], datasets[1:], resampling, fills)
        views = [ref_view, *others]
    native = ground_pixel_size_m(grid)
    if native and _off_model_size(native, meta.pixel_size_m):
        size = pixel_size_text(native)
        if resample_to_model:
            grid = _model_grid(grid, meta.pixel_size_m)
            views = [warp_to_grid(view, grid, resampling) for view in views]
            log(f"Inputs resampled ({resampling}) from {size} to the model's {meta.pixel_size_m:g} m pixels.")
        else:
            log(
                f"Warning: the image has {size} pixels but the model was trained at {meta.pixel_size_m:g} m; "
                "tick 'resample to the model's pixel size' if results look wrong."
            )
    readers: list[list[BandReader]] = []
    stats: list[list[tuple[float | None, float | None]]] = []
    for ds, view, idx, label, plan, key in zip(datasets, views, indices, labels, plans, ("before", "after")):
        date_readers = [
            BandReader(ds, i, view, plan.conversions[i] if convert else Radiometry(), plan.validity.fills.get(i))
            for i in idx
        ]
        readers.append(date_readers)
        bands = ", ".join(f"{p.band} = band {i} ({_named(r)})" for p, i, r in zip(meta.bands, idx, date_readers))
        sources = "; ".join(dict.fromkeys(r.radiometry.source for r in date_readers)) if convert else "values as stored"
        notes = f"; no data: {', '.join(plan.validity.notes)}" if plan.validity.notes else ""
        record = recording(log, used, label)
        record(f"{label} ({plan.profile.label}): {bands}; {sources}{notes}.")
        if plan.profile is not SENTINEL1:
            date = DateInput(plan.date.path, label, {}, key, radiometry=plan.date.radiometry)
            inputs = csmask_inputs(date, ds, radiometry, None)
            known = plan.profile.key == "sentinel2" or plan.profile.key.startswith("landsat")
            mask = date_cloud_mask(
                ds, view, grid, cloud_mask, {}, date_readers, inputs, folder, key, label, record, known
            )
            for reader in date_readers:
                reader.mask = mask
        stats.append([_scene_stats(meta, r, p, label) for r, p in zip(date_readers, meta.bands)])
    ground = ground_pixel_size_m(grid)
    metres = f" ({ground[0]:.3g} x {ground[1]:.3g} m)" if ground else ""
    log(f"Grid: {grid.width_px} x {grid.height_px} pixels of {grid.pixel_width:g} x {grid.pixel_height:g}{metres}.")
    terrain: list[BandReader] = []
    if meta.terrain:
        if not dem or folder is None:
            raise InputError(missing_dem_message(meta, model))
        terrain = [slope_reader(dem, grid, folder, log)]  # "slope_deg", the one terrain channel
    return PreparedInputs(grid, readers, stats, tuple(datasets) + tuple(views), terrain, used)


def _named(reader: BandReader) -> str:
    return reader.name if reader.name != f"band {reader.index}" else "unnamed: taken by its number"


def _products(
    meta: ModelMeta,
    images: Sequence[str],
    labels: Sequence[str],
    band_numbers: tuple[int, ...] | None,
    cloud_mask: str,
    resampling: str,
    folder: str | None,
    log: Log,
    used: list[tuple[str, str]],
) -> tuple[list[str], list[bool]]:
    """The images with products replaced by stacks of the model's bands, in the model's order (numbers, when
    given, are the producer's band numbers), and which images are such stacks."""
    wanted = [str(n) for n in band_numbers] if band_numbers else [b.band for b in meta.bands]
    extra = CSMASK_ROLES if cloud_mask == "csmask" else ()
    paths, stacked = [], []
    for path, label, key in zip(images, labels, ("before", "after")):
        product = find_product(path)
        if product is None:
            paths.append(path)
            stacked.append(False)
            continue
        if len(wanted) != len(meta.bands) or len(set(wanted)) != len(wanted):
            raise ParameterError(
                f"Model '{meta.name}' needs {len(meta.bands)} different band(s) "
                f"({', '.join(b.band for b in meta.bands)}) from the product; {len(wanted)} were given."
            )
        stack, _names = stack_for_names(
            product, wanted, extra, cloud_mask != "none", folder, key if len(images) > 1 else "image", label,
            resampling, recording(log, used, label),
        )  # fmt: skip
        paths.append(stack)
        stacked.append(True)
    return paths, stacked


def missing_dem_message(meta: ModelMeta, model: str) -> str:
    """The one sentence for a terrain model run without a DEM."""
    return (
        f"Model '{model}' also takes terrain ({', '.join(meta.terrain)}) computed from a DEM: "
        "pass a DEM (elevation in metres) that covers the images."
    )


def _scene_stats(meta: ModelMeta, reader: BandReader, prep: Any, label: str) -> tuple[float | None, float | None]:
    if meta.normalization != "per_scene":
        return None, None
    sample = prep.scaled(reader.sample(1024).astype(np.float32))
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        raise EmptyDataError(f"The {label}'s band {prep.band} holds no valid pixel.")
    return float(sample.mean()), max(float(sample.std()), 1e-6)


def read_tile(
    meta: ModelMeta, inputs: PreparedInputs, window: Window, tile: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model-ready values ``[dates, bands, tile, tile]``, terrain ``[channels, tile, tile]`` (both
    zero-padded) and the valid mask of ``window``; terrain is no data where the DEM is."""
    out = np.zeros((meta.dates, meta.channels_per_date, tile, tile), dtype=np.float32)
    valid = np.ones((window.height, window.width), dtype=bool)
    fill = np.float32(meta.fill_value)
    for d, (readers, stats) in enumerate(zip(inputs.readers, inputs.stats)):
        for b, (reader, prep, (mean, std)) in enumerate(zip(readers, meta.bands, stats)):
            values = prep.apply(reader.read(window), mean, std)
            finite = np.isfinite(values)
            if not finite.all():
                valid &= finite
                values[~finite] = fill
            out[d, b, : window.height, : window.width] = values
    terrain = np.zeros((len(inputs.terrain), tile, tile), dtype=np.float32)
    for t, reader in enumerate(inputs.terrain):
        values = reader.read(window)
        finite = np.isfinite(values)
        if not finite.all():
            valid &= finite
            values[~finite] = fill
        terrain[t, : window.height, : window.width] = values
    return out, terrain, valid
