"""Automatic thresholds on a histogram of the whole raster: Otsu and Kittler-Illingworth.

Thresholds are computed once, on a sample drawn from every block of the raster
(never per block), so that a large image gets one consistent threshold.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import EmptyDataError, ParameterError

THRESHOLD_METHODS = (
    ("otsu", "Otsu (automatic)"),
    ("ki", "Kittler-Illingworth minimum error (automatic)"),
    ("user", "User threshold"),
)
HISTOGRAM_BINS = 256
MAX_SAMPLE = 1_000_000


def _histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin centres of the finite values, clipped to their 0.1-99.9 percentiles."""
    finite = values[np.isfinite(values)].astype(np.float64)
    if finite.size < 2:
        raise EmptyDataError("There are too few valid pixels to compute an automatic threshold.")
    lo, hi = np.percentile(finite, [0.1, 99.9])
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        raise EmptyDataError(
            "The image has no contrast (all valid pixels have the same value): an automatic threshold is "
            "impossible; give a threshold yourself."
        )
    counts, edges = np.histogram(np.clip(finite, lo, hi), bins=bins, range=(lo, hi))
    return counts.astype(np.float64), (edges[:-1] + edges[1:]) / 2.0


def otsu(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> float:
    """Otsu's threshold (Otsu 1979): maximises the between-class variance; class 'low' is ``value <= t``.

    ``values`` is any array (finite values used, histogram of 256 bins between the 0.1 and 99.9
    percentiles); returns the threshold in the values' unit. Raises :class:`EmptyDataError` with
    fewer than 2 values or no contrast.
    """
    counts, centres = _histogram(values, bins)
    p = counts / counts.sum()
    w0 = np.cumsum(p)
    mu = np.cumsum(p * centres)
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = -1.0
    between = between[:-1]
    # Well-separated classes give a flat maximum over the empty gap: take the middle of that plateau.
    best = np.flatnonzero(between >= between.max() * (1.0 - 1e-9))
    lo, hi = int(best[0]), int(best[-1])
    return float((centres[lo] + centres[hi + 1]) / 2.0)


def kittler_illingworth(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> float:
    """Kittler-Illingworth minimum-error threshold (Kittler & Illingworth 1986): two Gaussians of
    unequal size and spread, which suits small classes such as floods and change.

    ``values`` is any array (finite values used, 256-bin histogram); returns the threshold in the
    values' unit. Raises :class:`EmptyDataError` with fewer than 2 values or no contrast.
    """
    counts, centres = _histogram(values, bins)
    p = counts / counts.sum()
    w0 = np.cumsum(p)
    w1 = 1.0 - w0
    m0 = np.cumsum(p * centres)
    m2 = np.cumsum(p * centres * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m0 / w0
        mu1 = (m0[-1] - m0) / w1
        var0 = m2 / w0 - mu0 * mu0
        var1 = (m2[-1] - m2) / w1 - mu1 * mu1
        cost = (
            1 + 2 * (w0 * np.log(np.sqrt(var0)) + w1 * np.log(np.sqrt(var1))) - 2 * (w0 * np.log(w0) + w1 * np.log(w1))
        )
    # Each class needs some spread: a bin's width squared / 12 is the smallest meaningful variance.
    floor = ((centres[1] - centres[0]) ** 2) / 12.0
    valid = np.isfinite(cost) & (var0 > floor) & (var1 > floor) & (w0 > 1e-4) & (w1 > 1e-4)
    valid[-1] = False
    if not valid.any():
        return otsu(values, bins)
    k = int(np.argmin(np.where(valid, cost, np.inf)))
    return float((centres[k] + centres[k + 1]) / 2.0)


def automatic_threshold(values: np.ndarray, method: str) -> float:
    """The threshold of ``method`` (``"otsu"`` or ``"ki"``) on ``values`` (any shape, finite values used).

    Raises :class:`ParameterError` for another method and :class:`EmptyDataError` when the values
    allow no threshold.
    """
    if method == "otsu":
        return otsu(values)
    if method == "ki":
        return kittler_illingworth(values)
    raise ParameterError(f"Unknown threshold method '{method}'; use one of otsu, ki, user.")


def method_label(method: str) -> str:
    """Human name of a threshold method for the log."""
    return dict(THRESHOLD_METHODS).get(method, method)


ORDER_BLOCK_PX = 4096  # samples are kept in the order 4096-column blocks gave them, whatever the blocks


class Sampler:
    """Collects a regular sample (every ``step``-th row and column) of measures over a whole raster.

    The sampled pixels are the same whatever the blocks; so is their order, which some fits see
    (sums): pixels come row by row within column groups of 4096 px, as the 4096 px blocks of
    earlier versions gave them, whatever block width a pass streams.
    """

    def __init__(self, width_px: int, height_px: int, max_values: int = MAX_SAMPLE) -> None:
        self.step = max(1, math.ceil(math.sqrt(width_px * height_px / max_values)))
        self.parts: dict[str, list[tuple[int, int, np.ndarray]]] = {}
        self._values: dict[str, np.ndarray] = {}

    def add(self, key: str, array: np.ndarray, row_off: int, col_off: int = 0) -> None:
        """Add the sampled pixels of ``array`` (a core window's 2-D array whose top-left pixel is at
        ``row_off``, ``col_off`` of the raster); NaN values are not kept.
        """
        self.extend(key, self.take(array, row_off, col_off))

    def take(self, array: np.ndarray, row_off: int, col_off: int = 0) -> tuple[int, int, np.ndarray]:
        """The sampled pixels of ``array`` (2-D) placed at ``row_off``, ``col_off``: a pure function, so a
        worker thread can take them and the calling thread :meth:`extend` in raster order."""
        r0 = (-row_off) % self.step
        c0 = (-col_off) % self.step
        return row_off, col_off, np.array(array[r0 :: self.step, c0 :: self.step])

    def sampled_rows(self, row_off: int, height: int) -> tuple[int, int]:
        """(first, step): the rows of a window at ``row_off`` (``height`` rows) that hold sampled pixels."""
        return (-row_off) % self.step, self.step

    def take_columns(self, rows: np.ndarray, row_off: int, col_off: int) -> tuple[int, int, np.ndarray]:
        """Like :meth:`take` for ``rows`` (2-D) that hold only the sampled rows of a window at ``row_off``,
        ``col_off``."""
        return row_off, col_off, np.array(rows[:, (-col_off) % self.step :: self.step])

    def extend(self, key: str, part: tuple[int, int, np.ndarray]) -> None:
        """Keep a part made by :meth:`take` (its pixels 2-D: sampled rows x sampled columns; parts arrive in
        raster order, so the sample never depends on threads), split at the 4096 px column groups."""
        row_off, col_off, pixels = part
        columns = col_off + (-col_off) % self.step + self.step * np.arange(pixels.shape[1])
        groups = columns // ORDER_BLOCK_PX
        cuts = np.flatnonzero(np.diff(groups)) + 1
        for start, end in zip([0, *cuts], [*cuts, pixels.shape[1]]):
            self.parts.setdefault(key, []).append((row_off, int(columns[start]) if end > start else col_off,
                                                   pixels[:, start:end]))  # fmt: skip

    def values(self, key: str) -> np.ndarray:
        """All sampled finite values of ``key`` as one 1-D array (the measure's type; empty float32 when none)."""
        if key not in self._values:
            groups: dict[tuple[int, int], list[tuple[int, np.ndarray]]] = {}
            for row_off, col_off, part in self.parts.pop(key, []):
                groups.setdefault((row_off, col_off // ORDER_BLOCK_PX), []).append((col_off, part))
            pieces = []
            for _group, members in sorted(groups.items()):
                rows = np.hstack([part for _col, part in sorted(members, key=lambda m: m[0])])
                pieces.append(rows[np.isfinite(rows)].ravel())
            self._values[key] = np.concatenate(pieces) if pieces else np.empty(0, np.float32)
        return self._values[key]
