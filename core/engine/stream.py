"""The block-streaming loop shared by every pixel method.

It reads aligned windows from any number of bands, hands them to a pure ``compute``
function, writes each output window and accumulates per-class pixel counts and ground
areas (and, in a first pass, samples), reporting progress and honouring cancel at every
block.

Blocks are read and computed on a small pool of worker threads, each reading through its
own GDAL handles (:class:`~changelens.core.io.handles.ThreadReaders`), while this thread
writes the finished blocks in raster order (:func:`~.parallel.run_ordered`): outputs, class
areas and samples are identical to a single-threaded run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from ..io.grid import Grid, pixel_area_rows_m2
from ..io.handles import ThreadReaders
from ..io.raster import BandReader, bounded_gdal_cache
from ..io.windows import HaloWindow, Window, block_windows, count_blocks, halo_windows, strip_shape, with_halo
from ..outputs.stats import BlockCounts, ClassStats, count_block
from ..outputs.writer import OutputSet
from ..progress import Progress, report
from .parallel import StreamConfig, run_ordered
from .threshold import Sampler

Compute = Callable[[Mapping[str, np.ndarray], HaloWindow], Mapping[str, np.ndarray]]
STREAM_CACHE_BYTES = 48 << 20  # GDAL block cache while streaming: reads of the blocks in flight, tiles being written


@dataclass
class _Block:
    """What a worker made of one block: the arrays to write, class counts and sampled pixels."""

    window: HaloWindow
    written: dict[str, np.ndarray]
    counts: dict[str, BlockCounts]
    samples: dict[str, tuple[int, int, np.ndarray]]


def stream(
    grid: Grid,
    readers: Mapping[str, BandReader],
    compute: Compute,
    outputs: OutputSet,
    progress: Progress,
    stats: Mapping[str, ClassStats] | None = None,
    halo_px: int = 0,
    sample: tuple[Sampler, Sequence[str]] | None = None,
    config: StreamConfig | None = None,
    region: Window | None = None,
) -> None:
    """Run ``compute`` over every block of ``grid`` (or of ``region`` of it) and write what it returns.

    ``readers`` give float32 arrays over each block's read window (core plus ``halo_px``);
    ``compute`` returns 2-D arrays of the core window's shape. Only the keys ``outputs``
    holds are written. ``stats`` maps output keys to :class:`ClassStats` that accumulate class
    areas of those outputs; ``sample`` names a :class:`Sampler` and the result keys it samples.
    ``config`` sets the worker threads (default: automatic) and the block width. Raises :class:`CancelledError` when
    ``progress`` says stop, and any error of a worker; the caller's :class:`OutputSet` then
    removes partial files.

    With a ``region`` (a window of ``grid``: one tile of a tiled run), only the parts of the blocks
    inside it are computed, each with the same halo read from ``grid`` around it, and ``outputs`` is
    on the region's grid (:meth:`Grid.subgrid`): windows are written relative to the region.
    """
    config = config or StreamConfig()
    block_w, block_h = strip_shape(grid.width_px, config.block_width_px)
    windows = list(_region_windows(grid, block_w, block_h, halo_px, region)) if region is not None else None
    total = len(windows) if windows is not None else count_blocks(grid.width_px, grid.height_px, block_w, block_h)
    shift = (region.col_off, region.row_off) if region is not None else (0, 0)
    threaded = config.worker_count() > 1
    local = ThreadReaders(readers) if threaded else None
    stats = dict(stats or {})
    sampler, sampled = sample if sample is not None else (None, ())

    def work(hw: HaloWindow) -> _Block:
        mine = local.get() if local is not None else readers
        arrays = {key: reader.read(hw.read) for key, reader in mine.items()}
        results = compute(arrays, hw)
        row_areas = pixel_area_rows_m2(grid, hw.core.row_off, hw.core.height) if stats else None
        return _Block(
            hw,
            {key: array for key, array in results.items() if key in outputs},
            {key: count_block(results[key], row_areas) for key in stats if key in results},  # type: ignore[arg-type]
            {key: sampler.take(results[key], hw.core.row_off, hw.core.col_off) for key in sampled} if sampler else {},
        )

    done = 0

    def consume(block: _Block) -> None:
        nonlocal done
        core = block.window.core
        if region is not None:
            core = Window(core.col_off - shift[0], core.row_off - shift[1], core.width, core.height)
        for key, array in block.written.items():
            outputs.write(key, core, array)
        for key, counts in block.counts.items():
            stats[key].merge(counts)
        for key, part in block.samples.items():
            sampler.extend(key, part)  # type: ignore[union-attr]
        done += 1
        report(progress, done / total)

    report(progress, 0.0)
    try:
        with bounded_gdal_cache(STREAM_CACHE_BYTES):
            items = (
                windows
                if windows is not None
                else halo_windows(grid.width_px, grid.height_px, block_w, block_h, halo_px)
            )
            run_ordered(items, work, consume, config)
    finally:
        if local is not None:
            local.close()


def _region_windows(grid: Grid, block_w: int, block_h: int, halo_px: int, region: Window) -> Iterator[HaloWindow]:
    """The parts of the raster's blocks inside ``region``, in raster order, each with its halo (clipped to the
    raster, as every block of a whole run)."""
    for block in block_windows(grid.width_px, grid.height_px, block_w, block_h):
        part = block.intersection(region)
        if part.size:
            yield with_halo(part, halo_px, grid.width_px, grid.height_px)
