"""Pixel counts and ground areas per class, accumulated block by block.

A block's counts are computed on its own (:func:`count_block`, on a worker thread) and merged
in block order (:meth:`ClassStats.merge`), so the totals do not depend on the thread count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..classes import ClassScheme

CLASS_VALUES = 256  # class rasters are Byte


@dataclass(frozen=True)
class BlockCounts:
    """Pixel counts (int64) and ground areas (float64, m²) per class value 0-255 of one block."""

    pixels: np.ndarray
    area_m2: np.ndarray


def count_block(classes: np.ndarray, row_area_m2: np.ndarray) -> BlockCounts:
    """Counts and areas of a block of class values (2-D, values 0-255) whose rows have the pixel
    areas ``row_area_m2`` (1-D, m², one per row).

    Rows of one area (projected grids) take count x area; rows of different areas (geographic
    grids) sum per row, without a per-pixel weight array.
    """
    flat = classes.ravel()
    if flat.dtype != np.uint8:
        flat = flat.astype(np.intp)
    counts = np.bincount(flat, minlength=CLASS_VALUES)
    if row_area_m2.size == 0 or np.all(row_area_m2 == row_area_m2[0]):
        area = counts * (float(row_area_m2[0]) if row_area_m2.size else 0.0)
    else:
        rows, width = classes.shape
        index = classes.astype(np.intp) + (np.arange(rows, dtype=np.intp) * CLASS_VALUES)[:, None]
        per_row = np.bincount(index.ravel(), minlength=rows * CLASS_VALUES).reshape(rows, CLASS_VALUES)
        area = row_area_m2.astype(np.float64) @ per_row
    return BlockCounts(counts, np.asarray(area, dtype=np.float64))


@dataclass
class ClassStats:
    """Pixel counts and ground areas per class value of one classified output."""

    scheme: ClassScheme
    pixels: dict[int, int] = field(default_factory=dict)
    area_m2: dict[int, float] = field(default_factory=dict)

    def add(self, classes: np.ndarray, row_area_m2: np.ndarray) -> None:
        """Accumulate a window of class values (2-D) whose rows have the pixel areas ``row_area_m2`` (m²)."""
        self.merge(count_block(classes, row_area_m2))

    def merge(self, block: BlockCounts) -> None:
        """Add one block's counts (merge blocks in raster order for totals independent of threading)."""
        for info in self.scheme.classes:
            self.pixels[info.value] = self.pixels.get(info.value, 0) + int(block.pixels[info.value])
            self.area_m2[info.value] = self.area_m2.get(info.value, 0.0) + float(block.area_m2[info.value])

    @property
    def total_pixels(self) -> int:
        """Pixels in any class (no data excluded)."""
        return sum(self.pixels.values())

    def rows(self) -> list[dict[str, object]]:
        """One row per class: value, name, pixels, hectares and percent of classified area."""
        total = sum(self.area_m2.values())
        by_pixels = not np.isfinite(total)  # no georeferencing: shares of pixels, areas unknown (NaN)
        if by_pixels:
            total = float(self.total_pixels)
        share = self.pixels if by_pixels else self.area_m2
        total = total or 1.0
        return [
            {
                "class_id": info.value,
                "class_name": info.name,
                "pixels": self.pixels.get(info.value, 0),
                "area_ha": self.area_m2.get(info.value, 0.0) / 1e4,
                "percent": 100.0 * share.get(info.value, 0.0) / total,
            }
            for info in self.scheme.classes
        ]
