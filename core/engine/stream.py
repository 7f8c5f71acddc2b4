"""The block-streaming loop shared by every pixel method.

It reads aligned windows from any number of bands, hands them to a pure
``compute`` function, writes each output window and accumulates per-class pixel
counts and ground areas, reporting progress and honouring cancel at every block.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..io.grid import Grid, pixel_area_rows_m2
from ..io.raster import BandReader, bounded_gdal_cache
from ..io.windows import HaloWindow, count_blocks, halo_windows, strip_shape
from ..outputs.stats import ClassStats
from ..outputs.writer import OutputSet
from ..progress import Progress, report

Compute = Callable[[Mapping[str, np.ndarray], HaloWindow], Mapping[str, np.ndarray]]


def stream(
    grid: Grid,
    readers: Mapping[str, BandReader],
    compute: Compute,
    outputs: OutputSet,
    progress: Progress,
    stats: Mapping[str, ClassStats] | None = None,
    halo_px: int = 0,
) -> None:
    """Run ``compute`` over every block of ``grid`` and write what it returns.

    ``stats`` maps output keys to :class:`ClassStats` that accumulate class areas
    of those outputs. Raises :class:`CancelledError` when ``progress`` says stop;
    the caller's :class:`OutputSet` then removes partial files.
    """
    block_w, block_h = strip_shape(grid.width_px)
    total = count_blocks(grid.width_px, grid.height_px, block_w, block_h)
    report(progress, 0.0)
    with bounded_gdal_cache():
        for done, hw in enumerate(halo_windows(grid.width_px, grid.height_px, block_w, block_h, halo_px), start=1):
            arrays = {key: reader.read(hw.read) for key, reader in readers.items()}
            results = compute(arrays, hw)
            for key, array in results.items():
                outputs.write(key, hw.core, array)
            if stats:
                row_areas = pixel_area_rows_m2(grid, hw.core.row_off, hw.core.height)
                for key, acc in stats.items():
                    if key in results:
                        acc.add(results[key], row_areas)
            report(progress, done / total)
