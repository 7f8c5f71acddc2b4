"""Two-pass methods: stream a measure over the whole raster, threshold it once, then classify.

Pass 1 writes the measures (filtered backscatter, log-ratio, index, magnitude) to
temporary GeoTIFFs and keeps a regular sample of them; the automatic threshold
comes from that whole-raster sample. Pass 2 streams the measures back and
classifies them. Memory stays bounded by the block size.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator, Mapping, Sequence

import numpy as np

from ..io.grid import Grid
from ..io.raster import BandReader, open_raster
from ..io.windows import HaloWindow
from ..outputs.writer import OutputSet, RasterOutput
from ..progress import Progress
from .stream import Compute, stream
from .threshold import Sampler


def pad_to_halo(array: np.ndarray, hw: HaloWindow, halo_px: int) -> np.ndarray:
    """Pad a read window with NaN where the raster edge cut its halo short."""
    top = halo_px - (hw.core.row_off - hw.read.row_off)
    left = halo_px - (hw.core.col_off - hw.read.col_off)
    bottom = halo_px - (hw.read.row_end - hw.core.row_end)
    right = halo_px - (hw.read.col_end - hw.core.col_end)
    if top == left == bottom == right == 0:
        return array
    return np.pad(array, ((top, bottom), (left, right)), mode="constant", constant_values=np.nan)


def core_of(array: np.ndarray, hw: HaloWindow) -> np.ndarray:
    """The core-window part of an array read over ``hw.read``."""
    rows, cols = hw.core_slices()
    return array[rows, cols]


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
) -> tuple[dict[str, BandReader], Sampler]:
    """Stream ``compute`` and store its ``keys`` outputs in ``folder``; return readers and a sample."""
    sampler = Sampler(grid.width_px, grid.height_px)

    def sampled(arrays: Mapping[str, np.ndarray], hw: HaloWindow) -> Mapping[str, np.ndarray]:
        results = compute(arrays, hw)
        for key in keys:
            sampler.add(key, results[key], hw.core.row_off, hw.core.col_off)
        return results

    specs = {key: RasterOutput(os.path.join(folder, f"{key}.tif"), description=key) for key in keys}
    with OutputSet(grid, dict(specs)) as out:
        stream(grid, readers, sampled, out, progress, halo_px=halo_px)
    stored = {}
    for key, spec in specs.items():
        ds = open_raster(spec.path)
        stored[key] = BandReader(ds, 1)
    return stored, sampler
