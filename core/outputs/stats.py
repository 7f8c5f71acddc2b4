"""Pixel counts and ground areas per class, accumulated block by block."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..classes import ClassScheme


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
