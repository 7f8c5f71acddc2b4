"""The change vector of two dates: per-band linear normalisation, magnitude and direction.

:class:`BandModel` holds the per-band maps fitted on the whole-raster sample
(:func:`~.cva.fit_model`); :func:`change_vector` works on stacks (the fit, on samples),
:func:`change_vector_bands` band by band with the same arithmetic (blocks, in little memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class BandModel:
    """Per-band linear maps that turn raw values of each date into normalised values."""

    gain1: np.ndarray
    offset1: np.ndarray
    gain2: np.ndarray
    offset2: np.ndarray
    notes: list[str] = field(default_factory=list)

    def apply(self, d1: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised stacks (bands first): ``d1`` and ``d2`` of shape (bands, ...) mapped band by band."""
        return d1 * self.gain1[:, None, None] + self.offset1[:, None, None], d2 * self.gain2[
            :, None, None
        ] + self.offset2[:, None, None]


def change_vector(d1: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Magnitude and (for exactly two bands) direction of the change vector ``d2 - d1``.

    ``d1``, ``d2`` are normalised stacks of shape (bands, rows, cols); the magnitude is float32
    (rows, cols) in normalised units, the direction degrees 0-360 (0 = band 1 increases, 90 = band 2
    increases; Bovolo & Bruzzone 2007) or None for another band count.
    """
    diff = d2 - d1
    magnitude = np.sqrt((diff * diff).sum(axis=0))
    direction = None
    if diff.shape[0] == 2:
        direction = (np.degrees(np.arctan2(diff[1], diff[0])) + 360.0) % 360.0
        direction[~np.isfinite(magnitude)] = np.nan
    return magnitude.astype(np.float32), direction


def change_vector_bands(
    model: BandModel, d1: Sequence[np.ndarray], d2: Sequence[np.ndarray], direction: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`change_vector` of ``model.apply(d1, d2)`` band by band, without (bands, rows, cols) stacks.

    ``d1``, ``d2`` are sequences of 2-D float32 bands of one shape; the float64 arithmetic and the order
    of the sum over bands are those of the stacked form, so the magnitude (float32, rows x cols) and the
    direction (two bands only, and only when ``direction``) are identical to it, in a fraction of the memory.
    """
    total: np.ndarray | None = None
    diffs = []
    for k, (a, b) in enumerate(zip(d1, d2)):
        z1 = a.astype(np.float64)
        z1 *= model.gain1[k]
        z1 += model.offset1[k]
        z2 = b.astype(np.float64)
        z2 *= model.gain2[k]
        z2 += model.offset2[k]
        np.subtract(z2, z1, out=z2)
        if direction and len(d1) == 2:
            diffs.append(z2.copy())
        np.multiply(z2, z2, out=z2)
        if total is None:
            total = z2
        else:
            total += z2
    assert total is not None, "at least one band"
    magnitude = np.sqrt(total, out=total).astype(np.float32)
    angle = None
    if diffs:
        angle = (np.degrees(np.arctan2(diffs[1], diffs[0])) + 360.0) % 360.0
        angle[~np.isfinite(magnitude)] = np.nan
    return magnitude, angle
