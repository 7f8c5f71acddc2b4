"""Run a declared method: reserve outputs, open and align inputs, stream, write, hand on the product.

:func:`run_method` is the one place where an index method meets files:

1. every raster destination is reserved in the run's :class:`Transaction` (missing or
   read-only folders fail here, before any pixel is read);
2. the method opens its inputs (:meth:`IndexMethod.open`): band roles, radiometry, one grid;
3. methods with a whole-raster threshold stream a first pass that samples (and may store)
   their measures, then fit their thresholds on the sample (:meth:`IndexMethod.fit`); pointwise
   measures that nothing stores are computed on the sampled rows only;
4. the pixel rule (:meth:`IndexMethod.compute`) streams block by block into staged rasters,
   while class areas accumulate;
5. the :class:`MapProduct` (staged paths) goes to the shared polygons, table and report,
   which stage their files in the same transaction; the caller commits once.

GDAL runs with exceptions on for the duration of the call only (:mod:`..gdal_state`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from .engine.measure import measure_pass, sample_pass, scratch_folder
from .engine.parallel import StreamConfig
from .engine.stream import stream
from .errors import ParameterError
from .gdal_state import gdal_exceptions
from .io.raster import BandReader, bounded_gdal_cache
from .methods.declaration import IndexMethod, RunRequest, with_path
from .methods.request import Opened
from .outputs.products import MapProduct, with_final_paths
from .outputs.stats import ClassStats
from .outputs.transaction import Transaction
from .outputs.vectorize import MapOutputs, MapResult, PolygonConfig, check_map_outputs, make_map_outputs
from .outputs.writer import OutputSet, RasterOutput, check_output_path
from .progress import Log, Progress, no_log, no_progress, sub_progress


def reserve_outputs(method: IndexMethod, request: RunRequest, transaction: Transaction) -> None:
    """Reserve every raster destination of ``request`` (checks formats and folders before any work)."""
    labels = {p.key: p.label for p in method.raster_outputs()}
    for key, path in request.outputs.items():
        if key not in labels:
            raise KeyError(f"{method.id} has no raster output '{key}'")
        if path:
            check_output_path(path)
            transaction.reserve(path, f"output '{labels[key]}'")


@contextlib.contextmanager
def _in_transaction(given: Transaction | None) -> Iterator[Transaction]:
    """The caller's transaction, or an own one committed on success and discarded on failure."""
    txn = given or Transaction()
    with gdal_exceptions():
        try:
            yield txn
            if given is None:
                txn.commit()
        except BaseException:
            if given is None:
                txn.discard()
            raise


def run_method(
    method: IndexMethod,
    request: RunRequest,
    transaction: Transaction | None = None,
    progress: Progress = no_progress,
    log: Log = no_log,
    second_pass: SecondPassRunner | None = None,
) -> MapProduct:
    """Map ``request`` with ``method``; return the product (paths staged in ``transaction``).

    Without a ``transaction`` the call owns one: it commits on success, and the product's
    paths are the final ones. ``second_pass`` replaces the streamed second pass (e.g. tiles on
    a Dask cluster, :class:`~changelens.core.tiled.TiledPass`); the outputs must be the same.
    Raises :class:`~changelens.core.errors.InputError` (bad inputs, before any output),
    :class:`~changelens.core.errors.OutputError` and
    :class:`~changelens.core.errors.CancelledError`; on any of them no output is kept.
    """
    with _in_transaction(transaction) as txn:
        product = _run(method, request, txn, progress, log, second_pass)
    return with_final_paths(product, txn) if transaction is None else product


@dataclasses.dataclass(frozen=True)
class SecondPass:
    """What the second pass of a run needs once the inputs are open and the thresholds fitted.

    ``config`` is the method's config as adjusted by :meth:`IndexMethod.open`; ``fitted`` what
    :meth:`IndexMethod.fit` found plus ``wanted`` (the raster output keys being written); ``stored``
    the first pass's measures on disk (readers of GeoTIFFs in ``scratch``); ``specs`` every raster
    output the run can make (None: it cannot; paths not filled in); ``blocks`` the streaming blocks.
    """

    method: IndexMethod
    request: RunRequest
    config: Any
    opened: Opened
    fitted: Mapping[str, Any]
    stored: Mapping[str, BandReader]
    specs: Mapping[str, RasterOutput | None]
    blocks: StreamConfig
    scratch: str


# How a run computes its second pass into ``out`` (staged rasters on the run's grid), accumulating the class
# raster's areas in ``stats``: :func:`stream_second_pass` here, or one tile per Dask task (:mod:`.tiled`).
SecondPassRunner = Callable[[SecondPass, OutputSet, ClassStats, Progress], None]


def stream_second_pass(second: SecondPass, out: OutputSet, stats: ClassStats, progress: Progress) -> None:
    """The single run's second pass: :meth:`IndexMethod.compute` streamed block by block over the whole grid."""
    method, config, fitted = second.method, second.config, second.fitted
    stream(
        second.opened.grid,
        method.pass2_readers(second.opened, dict(second.stored)),
        lambda arrays, hw: method.compute(config, fitted, arrays, hw),
        out,
        progress,
        {method.class_output: stats},
        halo_px=method.halo_px(config),
        config=second.blocks,
    )


def _run(
    method: IndexMethod,
    request: RunRequest,
    txn: Transaction,
    progress: Progress,
    log: Log,
    second_pass: SecondPassRunner | None = None,
) -> MapProduct:
    started = time.monotonic()
    config = request.config
    reserve_outputs(method, request, txn)
    near = [r.final for r in txn.reservations]
    with scratch_folder(near) as scratch:
        with bounded_gdal_cache():  # opening reads decimated whole bands (validity, radiometry, masks)
            opened = method.open(request, scratch, log)
        config = opened.config if opened.config is not None else config
        grid = opened.grid
        fitted: dict[str, Any] = {}
        stored = {}
        blocks = StreamConfig(block_width_px=method.block_width_px)
        sampled, kept = method.sample_keys(config, opened), method.store_keys(config, opened)
        two_pass = bool(sampled or kept)
        if two_pass:
            measures = lambda arrays, hw: method.measures(config, opened, arrays, hw)  # noqa: E731
            first = sub_progress(progress, 0.0, 0.5)
            halo = method.measures_halo_px(config, opened)
            if method.pointwise_measures and not kept and not halo:
                sampler = sample_pass(grid, opened.readers, measures, sampled, first, blocks)
            else:
                stored, sampler = measure_pass(
                    grid, opened.readers, measures, kept, scratch, first, halo, sampled, blocks
                )
            fitted = method.fit(config, opened, {k: sampler.values(k) for k in sampled}, log)
        specs = method.output_specs(config, opened, fitted)
        wanted = {  # an output the run cannot make (e.g. a direction from 4 bands) has no spec
            key: with_path(specs[key], path) for key, path in request.outputs.items() if path and specs.get(key)
        }
        fitted = {**fitted, "wanted": frozenset(wanted)}
        stats = ClassStats(method.scheme)
        second = SecondPass(method, request, config, opened, fitted, stored, specs, blocks, scratch)
        with OutputSet(grid, wanted, txn) as out:
            (second_pass or stream_second_pass)(
                second, out, stats, sub_progress(progress, 0.5 if two_pass else 0.0, 1.0)
            )
            staged = {key: out.staged_path(key) for key in wanted}
        opened.keep.clear()
    return MapProduct(
        title=method.product_title(config, opened),
        class_raster=staged.get(method.class_output, ""),
        scheme=method.scheme,
        stats=stats,
        measure_raster=staged.get(method.measure_output),
        measure_name=method.product_measure_name(config, opened),
        threshold=method.threshold(config, fitted),
        breaks=method.breaks(config),
        inputs=tuple(
            (image.display[:1].upper() + image.display[1:], opened.inputs[image.key])
            for image in method.images()
            if image.key in opened.inputs
        ),
        parameters=tuple(method.parameter_values(config) + method.extra_parameters(config, opened, fitted)),
        reading=tuple(opened.used),
        roles=_roles(opened.readers, opened.inputs),
        seconds=time.monotonic() - started,
    )


def _roles(
    readers: Mapping[str, Any], inputs: Mapping[str, str]
) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """The band each ``"<role>_<image key>"`` reader reads, per input path."""
    out = []
    for key, path in inputs.items():
        pairs = tuple(
            (name[: -len(key) - 1], int(reader.index))
            for name, reader in readers.items()
            if name.endswith(f"_{key}") and isinstance(getattr(reader, "index", None), int)
        )
        out.append((path, pairs))
    return tuple(out)


def run_and_map(
    method: IndexMethod,
    request: RunRequest,
    polygons: PolygonConfig,
    map_outputs: MapOutputs,
    transaction: Transaction | None = None,
    progress: Progress = no_progress,
    log: Log = no_log,
    second_pass: SecondPassRunner | None = None,
) -> tuple[MapProduct, MapResult]:
    """The whole QGIS-free run: :func:`run_method` (first 60 % of progress), then the minimum mapping
    unit, polygons and area table (:func:`make_map_outputs`), all in one transaction.

    ``polygons`` passes through :meth:`IndexMethod.clean_up` (a method may impose its own mapping
    unit). Without a ``transaction`` the call commits its own and returns final paths. ``second_pass``: as
    :func:`run_method` (the minimum mapping unit and polygons then run here on the assembled class raster).
    """
    config = method.clean_up(request.config, polygons)
    if not request.outputs.get(method.class_output) and config.min_area_px:
        config = dataclasses.replace(config, min_area_px=0)  # the default unit sieves the class raster only if kept
    wanted = bool(map_outputs.polygons or map_outputs.stats_table or config.sieves)
    if wanted and not request.outputs.get(method.class_output):
        raise ParameterError(
            "Polygons, area statistics and the minimum mapping unit are made from the class raster: "
            "keep the class raster output (a temporary file is fine)."
        )
    with _in_transaction(transaction) as txn:
        check_map_outputs(map_outputs)
        for path, label in ((map_outputs.polygons, "polygons"), (map_outputs.stats_table, "area statistics table")):
            if path:
                txn.path_for(path, label)
        first = sub_progress(progress, 0.0, 0.6) if wanted else progress
        product = run_method(method, request, txn, first, log, second_pass)
        if wanted:
            result = make_map_outputs(product, map_outputs, config, sub_progress(progress, 0.6, 1.0), log, txn)
        else:
            result = MapResult(product.stats, polygonised_classes=())
    return (with_final_paths(product, txn) if transaction is None else product), result


def result_values(method: type[IndexMethod] | IndexMethod, product: MapProduct) -> dict[str, float | None]:
    """The method's declared result numbers, read from class areas by class role (never by label).

    ``mapped_area_ha`` sums the mapped (non-background) classes, ``valid_area_ha`` every
    class, ``threshold`` is the product's decision value.
    """
    mapped = set(product.scheme.mapped_values)
    areas: Mapping[int, float] = product.stats.area_m2
    out: dict[str, float | None] = {}
    known = np.isfinite(sum(areas.values()))  # False without georeferencing: areas are not reported
    for result in method.results:
        if result.kind == "mapped_area_ha":
            out[result.name] = sum(a for v, a in areas.items() if v in mapped) / 1e4 if known else None
        elif result.kind == "valid_area_ha":
            out[result.name] = sum(areas.values()) / 1e4 if known else None
        elif result.kind == "threshold":
            out[result.name] = product.threshold
        else:
            raise ValueError(f"unknown result kind '{result.kind}'")
    return out
