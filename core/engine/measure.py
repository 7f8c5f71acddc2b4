"""Two-pass methods: stream a measure over the whole raster, threshold it once, then classify.

Pass 1 keeps a regular sample of the measures (the automatic threshold comes from that
whole-raster sample) and, for measures too costly to compute twice (filtered backscatter),
writes them to temporary GeoTIFFs that pass 2 streams back. When nothing is stored and the
measures are pointwise, pass 1 reads and computes only the sampled rows
(:func:`sample_pass`): the sample is the same, at a fraction of the work. Memory stays
bounded by the block size.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator, Mapping, Sequence

import numpy as np

from ..io.grid import Grid
from ..io.handles import ThreadReaders
from ..io.raster import BandReader, bounded_gdal_cache, open_raster
from ..io.windows import HaloWindow, Window, block_windows, count_blocks, strip_shape
from ..outputs.writer import OutputSet, RasterOutput, scratch_options
from ..progress import Progress, report
from .parallel import StreamConfig, run_ordered
from .stream import STREAM_CACHE_BYTES, Compute, stream
from .threshold import Sampler


@contextlib.contextmanager
def scratch_folder(near: Sequence[str | None]) -> Iterator[str]:
    """A temporary folder beside the first output (same disk), removed afterwards."""
    base = next((os.path.dirname(os.path.abspath(p)) for p in near if p), None)
    if base is None or not os.path.isdir(base) or not os.access(base, os.W_OK):
        base = None
    folder = tempfile.mkdtemp(prefix=".changelens-", dir=base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_pass(
    grid: Grid,
    readers: Mapping[str, BandReader],
    compute: Compute,
    keys: Sequence[str],
    folder: str,
    progress: Progress,
    halo_px: int = 0,
    sampled: Sequence[str] | None = None,
    config: StreamConfig | None = None,
) -> tuple[dict[str, BandReader], Sampler]:
    """First pass of a two-pass method: stream ``compute``, keep ``keys`` on disk, sample ``sampled``.

    ``compute`` returns core-window arrays (float32, NaN = no data) for at least ``keys`` and
    ``sampled`` (which defaults to ``keys``). The stored measures are Float32 GeoTIFFs in
    ``folder`` (a scratch folder the caller removes), returned as readers on ``grid``; the
    :class:`Sampler` holds a regular sample of every sampled key over the whole raster, so one
    threshold serves every block. Memory stays bounded by the block size.
    """
    sampler = Sampler(grid.width_px, grid.height_px)
    to_sample = tuple(keys if sampled is None else sampled)
    specs = {
        key: RasterOutput(os.path.join(folder, f"{key}.tif"), description=key, options=scratch_options())
        for key in keys
    }
    with OutputSet(grid, dict(specs)) as out:
        stream(grid, readers, compute, out, progress, halo_px=halo_px, sample=(sampler, to_sample), config=config)
    stored = {}
    for key, spec in specs.items():
        ds = open_raster(spec.path)
        stored[key] = BandReader(ds, 1)
    return stored, sampler


def sample_pass(
    grid: Grid,
    readers: Mapping[str, BandReader],
    compute: Compute,
    sampled: Sequence[str],
    progress: Progress,
    config: StreamConfig | None = None,
) -> Sampler:
    """First pass of a method whose measures are pointwise and stored nowhere: only the sampled rows.

    ``compute`` gets float32 arrays of the sampled rows of each block (2-D, rows x block width;
    the window it is given is the whole block's) and returns arrays of that shape; the
    :class:`Sampler` ends up with exactly the values a full pass would give it, in the same order.
    """
    config = config or StreamConfig()
    sampler = Sampler(grid.width_px, grid.height_px)
    block_w, block_h = strip_shape(grid.width_px, config.block_width_px)
    total = count_blocks(grid.width_px, grid.height_px, block_w, block_h)
    local = ThreadReaders(readers) if config.worker_count() > 1 else None

    def work(window: Window) -> dict[str, tuple[int, int, np.ndarray]]:
        first, step = sampler.sampled_rows(window.row_off, window.height)
        if first >= window.height:
            return {}
        mine = local.get() if local is not None else readers
        arrays = {key: reader.read_rows(window, first, step) for key, reader in mine.items()}
        results = compute(arrays, HaloWindow(window, window))
        return {key: sampler.take_columns(results[key], window.row_off, window.col_off) for key in sampled}

    done = 0

    def consume(parts: dict[str, tuple[int, int, np.ndarray]]) -> None:
        nonlocal done
        for key, part in parts.items():
            sampler.extend(key, part)
        done += 1
        report(progress, done / total)

    report(progress, 0.0)
    try:
        with bounded_gdal_cache(STREAM_CACHE_BYTES):
            run_ordered(block_windows(grid.width_px, grid.height_px, block_w, block_h), work, consume, config)
    finally:
        if local is not None:
            local.close()
    return sampler
