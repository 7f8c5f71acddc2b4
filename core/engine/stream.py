"""The block-streaming loop shared by every pixel method.

It reads aligned windows from any number of bands, hands them to a pure
``compute`` function, writes each output window and accumulates per-class pixel
counts and ground areas, reporting progress and honouring cancel at every block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..classes import ClassScheme
from ..io.grid import Grid, pixel_area_rows_m2
from ..io.raster import BandReader, bounded_gdal_cache
from ..io.windows import HaloWindow, count_blocks, halo_windows
from ..outputs.writer import OutputSet
from ..progress import Progress, report

Compute = Callable[[Mapping[str, np.ndarray], HaloWindow], Mapping[str, np.ndarray]]

BLOCK_WIDTH_PX = 4096
BLOCK_HEIGHT_PX = 256


@dataclass
class ClassStats:
    """Pixel counts and ground areas per class value of one classified output."""

    scheme: ClassScheme
    pixels: dict[int, int] = field(default_factory=dict)
    area_m2: dict[int, float] = field(default_factory=dict)

    def add(self, classes: np.ndarray, row_area_m2: np.ndarray) -> None:
        """Accumulate a window of class values whose rows have the given pixel areas."""
        size = 256
        flat = classes.astype(np.intp, copy=False)
        counts = np.bincount(flat.ravel(), minlength=size)
        areas = np.bincount(flat.ravel(), weights=np.repeat(row_area_m2, classes.shape[1]), minlength=size)
        for info in self.scheme.classes:
            self.pixels[info.value] = self.pixels.get(info.value, 0) + int(counts[info.value])
            self.area_m2[info.value] = self.area_m2.get(info.value, 0.0) + float(areas[info.value])

    @property
    def total_pixels(self) -> int:
        """Pixels in any class (no data excluded)."""
        return sum(self.pixels.values())

    def rows(self) -> list[dict[str, object]]:
        """One row per class: value, name, pixels, hectares and percent of classified area."""
        total = sum(self.area_m2.values()) or 1.0
        return [
            {
                "class_id": info.value,
                "class_name": info.name,
                "pixels": self.pixels.get(info.value, 0),
                "area_ha": self.area_m2.get(info.value, 0.0) / 1e4,
                "percent": 100.0 * self.area_m2.get(info.value, 0.0) / total,
            }
            for info in self.scheme.classes
        ]


def block_size(grid: Grid) -> tuple[int, int]:
    """Processing block: full-width strips up to 4096 px wide, 256 rows (tile-aligned)."""
    return min(grid.width_px, BLOCK_WIDTH_PX), BLOCK_HEIGHT_PX


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
    block_w, block_h = block_size(grid)
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
