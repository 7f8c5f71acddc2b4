"""One scene pair split into tiles that Dask workers compute, assembled into the single run's outputs.

A tiled run is the single run (:func:`~changelens.core.pipeline.run_method`) with another second
pass (:class:`TiledPass`):

1. this process opens the inputs, runs the first pass (samples; stored measures such as the SAR
   flood's filtered backscatter go to the run's scratch folder beside the outputs) and fits the
   thresholds, exactly as the single run: the thresholds are the same;
2. the grid is cut into tiles of ``tile_px`` x ``tile_px`` pixels, one Dask task each
   (:func:`run_tile`): the worker re-opens the inputs from the same request (plain values), reads
   the stored measures from the scratch folder and streams :meth:`IndexMethod.compute` over the
   parts of the run's blocks inside its tile, each with the halo the method needs read from
   around it, into tile GeoTIFFs in the scratch folder;
3. this process copies the tiles into each staged output in the single run's block order (same
   creation options, classes, style) and counts the class areas from the assembled blocks;
   the minimum mapping unit, polygons, table and report then run on the whole class raster
   (:func:`~changelens.core.pipeline.run_and_map`), so nothing is cut at a tile edge.

The rasters, areas, polygons and threshold are those of the single run (tested pixel for pixel).
Workers must see the inputs, the outputs' folder (the scratch folder is made there) under the
same paths: a shared filesystem, as for batch runs. A failing tile fails the run (no output is
kept, the scratch folder is removed); a lost worker's tile is re-run by Dask. ``distributed``
is imported only when a tiled run starts.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .cluster import distributed_module
from .engine.measure import scratch_folder
from .engine.parallel import StreamConfig
from .engine.stream import STREAM_CACHE_BYTES, stream
from .errors import InputError, ParameterError
from .gdal_state import gdal_exceptions
from .io.grid import Grid, pixel_area_rows_m2
from .io.raster import BandReader, bounded_gdal_cache, open_raster
from .io.windows import Window, block_windows, strip_shape
from .methods.declaration import IndexMethod, RunRequest
from .outputs.stats import ClassStats, count_block
from .outputs.writer import OutputSet, RasterOutput, scratch_options
from .pipeline import SecondPass
from .progress import Log, Progress, no_log, no_progress, report, sub_progress

MIN_TILE_PX = 64
TILES_SHARE = 0.9  # of the second pass's progress; the rest is the assembly
_NUMPY_TYPES = {"Byte": np.uint8, "UInt16": np.uint16, "Int16": np.int16, "Float32": np.float32}


@dataclass(frozen=True)
class TileConfig:
    """How a pair is tiled: square tiles of ``tile_px`` pixels (the last row and column smaller), and how
    often Dask re-runs a tile whose worker was lost (``retries``).

    Raises :class:`ParameterError` for tiles under 64 px (the halo would dominate the work).
    """

    tile_px: int = 4096
    retries: int = 1

    def __post_init__(self) -> None:
        if self.tile_px < MIN_TILE_PX:
            raise ParameterError(f"Tiles must be at least {MIN_TILE_PX} px wide; got {self.tile_px}.")


@dataclass(frozen=True)
class TileJob:
    """What every tile task gets (plain, picklable values): the method and the request to re-open the inputs
    with, the fitted config and thresholds, the stored measures' GeoTIFF paths by key, the outputs every tile
    writes (key -> data type and no-data), the run's grid, the scratch ``folder`` and the block width."""

    method: IndexMethod
    request: RunRequest
    config: Any
    fitted: Mapping[str, Any]
    stored: Mapping[str, str]
    outputs: Mapping[str, tuple[str, float | None]]
    grid: Grid
    folder: str
    block_width_px: int


def tile_windows(width_px: int, height_px: int, tile_px: int) -> list[Window]:
    """The tiles of a ``width_px`` x ``height_px`` grid in raster order (the last row and column smaller)."""
    return list(block_windows(width_px, height_px, tile_px, tile_px))


def tile_path(folder: str, key: str, index: int) -> str:
    """Where tile ``index`` of output ``key`` is written."""
    return os.path.join(folder, f"{key}_{index:05d}.tif")


def run_tile(job: TileJob, index: int, tile: Window) -> int:
    """Compute ``tile`` (a window of ``job.grid``) of every output of ``job`` into tile GeoTIFFs; on a worker.

    Returns ``index``. Raises :class:`InputError` when the inputs opened here are not on the run's grid (they
    changed, or are other files under the same paths), and any error of the method; the tile's files are then
    removed.
    """
    method = job.method
    with gdal_exceptions(), scratch_folder([]) as scratch:  # the DEM's slope: local to this worker
        with bounded_gdal_cache():
            opened = method.open(job.request, scratch, no_log)
        try:
            if (opened.grid.width_px, opened.grid.height_px) != (job.grid.width_px, job.grid.height_px) or not (
                opened.grid.same_as(job.grid)
            ):
                raise InputError(
                    "The inputs a worker opened are not on the run's grid: do all machines see the same files?"
                )
            stored = {key: BandReader(open_raster(path), 1) for key, path in job.stored.items()}
            specs = {
                key: RasterOutput(tile_path(job.folder, key, index), data_type, nodata, options=scratch_options())
                for key, (data_type, nodata) in job.outputs.items()
            }
            with OutputSet(job.grid.subgrid(tile), dict(specs)) as out:
                stream(
                    job.grid,
                    method.pass2_readers(opened, stored),
                    lambda arrays, hw: method.compute(job.config, job.fitted, arrays, hw),
                    out,
                    no_progress,
                    halo_px=method.halo_px(job.config),
                    config=StreamConfig(block_width_px=job.block_width_px),
                    region=tile,
                )
        finally:
            opened.keep.clear()
    return index


class TiledPass:
    """The second pass of a run as one Dask task per tile (pass it as ``second_pass`` to
    :func:`~changelens.core.pipeline.run_and_map` or :func:`~changelens.core.runner.run_declared`).

    ``client`` is a ``distributed.Client`` (e.g. from :func:`~changelens.core.cluster.connect`). Called
    with the run's :class:`SecondPass`, staged :class:`OutputSet` and :class:`ClassStats`, it fills both as
    the single run does.
    Raises the first failing tile's error, and :class:`CancelledError` when ``progress`` says stop (the tasks
    not started are cancelled); the caller's transaction then removes every output.
    """

    def __init__(self, client: Any, config: TileConfig, log: Log = no_log) -> None:
        self.client = client
        self.config = config
        self.log = log

    def __call__(self, second: SecondPass, out: OutputSet, stats: ClassStats, progress: Progress) -> None:
        method, grid = second.method, second.opened.grid
        keys = [k for k in second.specs if k in second.fitted.get("wanted", ()) or k == method.class_output]
        outputs = {k: (spec.data_type, spec.nodata) for k in keys if (spec := second.specs[k]) is not None}
        folder = tempfile.mkdtemp(prefix="tiles-", dir=second.scratch)
        job = TileJob(
            method,
            _absolute(second.request),
            second.config,
            dict(second.fitted),
            {key: os.path.abspath(reader.pixels.GetDescription()) for key, reader in second.stored.items()},
            outputs,
            grid,
            os.path.abspath(folder),
            second.blocks.block_width_px,
        )
        tiles = tile_windows(grid.width_px, grid.height_px, self.config.tile_px)
        self.log(f"Second pass in {len(tiles)} tiles of {self.config.tile_px} px on the Dask cluster.")
        self._run_tiles(job, tiles, sub_progress(progress, 0.0, TILES_SHARE))
        assemble(job, tiles, out, stats, method.class_output, sub_progress(progress, TILES_SHARE, 1.0))

    def _run_tiles(self, job: TileJob, tiles: list[Window], progress: Progress) -> None:
        distributed = distributed_module()
        token = uuid.uuid4().hex[:8]
        keys = [f"changelens-tile-{i}-{token}" for i in range(len(tiles))]
        futures = self.client.map(
            run_tile, [job] * len(tiles), range(len(tiles)), tiles, key=keys, pure=False, retries=self.config.retries
        )
        try:
            report(progress, 0.0)
            for done, future in enumerate(distributed.as_completed(futures), start=1):
                future.result()  # the tile's own error, raised here
                report(progress, done / len(tiles))
        except BaseException:
            self.client.cancel(futures)
            raise


def assemble(
    job: TileJob, tiles: list[Window], out: OutputSet, stats: ClassStats, class_key: str, progress: Progress
) -> None:
    """Copy the tiles of ``job`` into ``out`` in the single run's block order, counting ``class_key``'s areas.

    Every block is put together from the tiles it overlaps (2-D arrays of the output's type) and written
    and counted as the single run writes and counts it: rasters and class areas are the same.
    """
    grid = job.grid
    block_w, block_h = strip_shape(grid.width_px, job.block_width_px)
    windows = list(block_windows(grid.width_px, grid.height_px, block_w, block_h))
    handles = {key: [open_raster(tile_path(job.folder, key, i)) for i in range(len(tiles))] for key in job.outputs}
    with bounded_gdal_cache(STREAM_CACHE_BYTES):
        for done, window in enumerate(windows, start=1):
            for key, (data_type, _nodata) in job.outputs.items():
                array = np.empty((window.height, window.width), _NUMPY_TYPES[data_type])
                for tile, ds in zip(tiles, handles[key]):
                    part = window.intersection(tile)
                    if part.size:
                        rows, cols = part.relative_to(window)
                        array[rows, cols] = ds.GetRasterBand(1).ReadAsArray(
                            part.col_off - tile.col_off, part.row_off - tile.row_off, part.width, part.height
                        )
                out.write(key, window, array)
                if key == class_key:
                    stats.merge(count_block(array, pixel_area_rows_m2(grid, window.row_off, window.height)))
            report(progress, done / len(windows))
    handles.clear()


def _absolute(request: RunRequest) -> RunRequest:
    """``request`` with absolute input paths (workers may run in another folder)."""
    images = {key: os.path.abspath(path) if path else path for key, path in request.images.items()}
    return dataclasses.replace(request, images=images)
