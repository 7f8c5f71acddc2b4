"""Neighbourhood filters on blocks read with a halo: focal median, refined Lee and speckle filtering.

Every filter takes an array read over a :class:`~changelens.core.io.windows.HaloWindow`
(``size // 2`` pixels of context on each side, NaN-padded at the raster edge by
:func:`pad_to_halo`) and returns the core window, so blocks join without seams.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ParameterError
from ..io.windows import HaloWindow

SPECKLE_FILTERS = (
    ("auto", "Automatic: refined Lee on calibrated data, median on 8-bit display images"),
    ("refined_lee", "Refined Lee (edge-aligned windows)"),
    ("median", "Focal median"),
    ("none", "No filter"),
)
DEFAULT_LOOKS = 4.4  # equivalent number of looks of Sentinel-1 GRD IW


def pad_to_halo(array: np.ndarray, hw: HaloWindow, halo_px: int) -> np.ndarray:
    """Pad ``array`` (shape of ``hw.read``) with NaN up to ``halo_px`` on every side where the raster edge cut
    the halo short, so that a ``size = 2 * halo_px + 1`` filter returns exactly the core window's shape.
    """
    top = halo_px - (hw.core.row_off - hw.read.row_off)
    left = halo_px - (hw.core.col_off - hw.read.col_off)
    bottom = halo_px - (hw.read.row_end - hw.core.row_end)
    right = halo_px - (hw.read.col_end - hw.core.col_end)
    if top == left == bottom == right == 0:
        return array
    return np.pad(array, ((top, bottom), (left, right)), mode="constant", constant_values=np.nan)


def core_of(array: np.ndarray, hw: HaloWindow) -> np.ndarray:
    """The part of ``array`` (shape of ``hw.read``, any leading axes) that covers ``hw.core``."""
    rows, cols = hw.core_slices()
    return array[rows, cols]


def _windows(padded: np.ndarray, size: int) -> np.ndarray:
    return sliding_window_view(padded, (size, size))


def median_filter(values: np.ndarray, size: int) -> np.ndarray:
    """Focal median over ``size`` x ``size`` windows, ignoring NaN.

    ``values`` is 2-D (rows x cols, float) with a halo of ``size // 2`` pixels on every side; the
    result is float32 of shape ``(rows - size + 1, cols - size + 1)`` (the core), NaN where a window
    holds no finite value. Even counts take the mean of the two middle values. 3 x 3 windows of
    float32 take a selection network where all nine values are finite (the same values, without
    sorting every window).
    """
    rows, cols = values.shape[0] - size + 1, values.shape[1] - size + 1
    if size == 3 and values.dtype == np.float32 and rows > 0 and cols > 0:
        return _median3(values, rows, cols)
    return _median_of_windows(_windows(values, size).reshape(rows, cols, size * size))


def _median_of_windows(win: np.ndarray) -> np.ndarray:
    """NaN-ignoring median of the last axis of ``win`` (any leading shape): float32 of the leading shape."""
    ordered = np.sort(win, axis=-1)  # NaN sorts last
    count = np.isfinite(win).sum(axis=-1)
    idx = np.maximum(count - 1, 0) // 2
    out = np.take_along_axis(ordered, idx[..., None], axis=-1)[..., 0]
    upper = np.take_along_axis(ordered, (np.maximum(count, 1) // 2)[..., None], axis=-1)[..., 0]
    out = np.where(count % 2 == 0, (out + upper) / 2.0, out)
    out[count == 0] = np.nan
    return out.astype(np.float32)


# Paeth's 19-exchange median-of-9 network: after these exchanges, position 4 holds the median.
_MEDIAN9 = ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
            (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2))  # fmt: skip


MEDIAN_CHUNK_ROWS = 16  # rows per network pass: nine such strips stay in the CPU cache


def _median3(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """3 x 3 median of float32 ``values`` (core ``rows`` x ``cols``), in strips of 16 rows."""
    out = np.empty((rows, cols), np.float32)
    for r in range(0, rows, MEDIAN_CHUNK_ROWS):
        h = min(MEDIAN_CHUNK_ROWS, rows - r)
        out[r : r + h] = _median3_strip(values[r : r + h + 2], h, cols)
    return out


def _median3_strip(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The network where the nine values are finite, :func:`_median_of_windows` on the other windows."""
    p = [values[i : i + rows, j : j + cols].copy() for i in range(3) for j in range(3)]
    finite = np.zeros((rows, cols), np.uint8)
    for view in p:
        finite += np.isfinite(view)
    low = np.empty((rows, cols), np.float32)
    with np.errstate(invalid="ignore"):
        for a, b in _MEDIAN9:
            np.minimum(p[a], p[b], out=low)
            np.maximum(p[a], p[b], out=p[b])
            p[a], low = low, p[a]
    out = p[4]
    partial = finite != 9
    if partial.any():
        win = _windows(values, 3).reshape(rows, cols, 9)
        out[partial] = _median_of_windows(win[partial])
    return out


def _box_mean(values: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Weighted mean over ``size`` x ``size`` windows (valid part only), via summed-area tables."""

    def box(a: np.ndarray) -> np.ndarray:
        s = np.zeros((a.shape[0] + 1, a.shape[1] + 1), np.float64)
        s[1:, 1:] = a.cumsum(0).cumsum(1)
        return s[size:, size:] - s[:-size, size:] - s[size:, :-size] + s[:-size, :-size]

    with np.errstate(divide="ignore", invalid="ignore"):
        return box(values * weights) / box(weights)


def _half_masks(size: int) -> np.ndarray:
    """Eight half-window masks (both sides of the 4 edge directions), each including the edge line."""
    i, j = np.mgrid[0:size, 0:size] - size // 2
    return np.stack([j <= 0, j >= 0, i <= 0, i >= 0, i + j <= 0, i + j >= 0, i - j <= 0, i - j >= 0]).astype(np.float32)


def refined_lee(intensity: np.ndarray, size: int = 7, looks: float = DEFAULT_LOOKS) -> np.ndarray:
    """Refined Lee filter (Lee 1981; Lopes et al. 1990) on linear intensity.

    ``intensity`` is 2-D float (rows x cols, NaN = no data) with a ``size // 2`` halo; returns float32
    of the core's shape (``size - 1`` rows and columns fewer). Edge direction is taken from the
    strongest gradient between 3 x 3 sub-window means (horizontal, vertical, two diagonals); the Lee
    estimate is then computed over the half window on the side of the edge that resembles the centre,
    with speckle variance ``1 / looks`` (4.4 looks for Sentinel-1 GRD IW). Raises
    :class:`ParameterError` for a window smaller than 5 or even.
    """
    if size < 5 or size % 2 == 0:
        raise ParameterError("The refined Lee window must be an odd size of at least 5 pixels.")
    h = size // 2
    d = h - 1
    valid = np.isfinite(intensity)
    filled = np.where(valid, intensity, 0.0).astype(np.float64)
    weight = valid.astype(np.float64)
    sub = _box_mean(filled, weight, 3)  # 3x3 means, shape shrinks by 2 (centred on input pixel +1)
    rows, cols = intensity.shape[0] - 2 * h, intensity.shape[1] - 2 * h

    def at(di: int, dj: int) -> np.ndarray:
        r0, c0 = h - 1 + di, h - 1 + dj
        return sub[r0 : r0 + rows, c0 : c0 + cols]

    centre = at(0, 0)
    pairs = [((0, -d), (0, d)), ((-d, 0), (d, 0)), ((-d, -d), (d, d)), ((-d, d), (d, -d))]
    grads = np.stack([np.abs(at(*a) - at(*b)) for a, b in pairs])
    grads[~np.isfinite(grads)] = -1.0
    direction = np.argmax(grads, axis=0)
    side_a = np.stack([np.abs(at(*a) - centre) for a, _b in pairs])
    side_b = np.stack([np.abs(at(*b) - centre) for _a, b in pairs])
    pick_b = np.take_along_axis(side_b < side_a, direction[None], axis=0)[0]
    # _half_masks holds both sides of each pair in the same order: side a at 2k, side b at 2k + 1.
    mask_index = direction * 2 + pick_b.astype(np.intp)
    masks = _half_masks(size)
    win_v = _windows(filled, size)
    win_w = _windows(weight, size)
    out = np.empty((rows, cols), np.float64)
    var_noise = 1.0 / looks
    all_valid = bool(valid.all())
    centre_values = filled[h : h + rows, h : h + cols]
    band = max(1, GATHER_PX // max(cols, 1))  # rows whose windows are gathered at once: little memory
    for r0 in range(0, rows, band):
        part = slice(r0, min(r0 + band, rows))
        for k in range(8):
            sel = mask_index[part] == k
            if not sel.any():
                continue
            v = win_v[part][sel]
            if all_valid:  # every weight is 1: the weights are the mask (the same values, without gathering them)
                w = np.broadcast_to(masks[k].astype(np.float64), v.shape)
            else:
                w = win_w[part][sel]
                w *= masks[k]
            n = w.sum(axis=(-2, -1))
            with np.errstate(divide="ignore", invalid="ignore"):
                vw = np.multiply(v, w)  # the same products and sums per pixel as ever, in fewer temporaries
                mean = vw.sum(axis=(-2, -1)) / n
                np.subtract(v, mean[:, None, None], out=v)
                np.multiply(v, v, out=v)  # x ** 2 is x * x
                np.multiply(v, w, out=v)
                var = v.sum(axis=(-2, -1)) / n
                var_x = (var - mean * mean * var_noise) / (1.0 + var_noise)
                b = np.clip(var_x / var, 0.0, 1.0)
            b[~np.isfinite(b)] = 0.0
            out[part][sel] = mean + b * (centre_values[part][sel] - mean)
    out[~valid[h : h + rows, h : h + cols]] = np.nan
    return out.astype(np.float32)


CHUNK_ROWS = 32  # part of the results: the box means are sums over a chunk
GATHER_PX = 8192  # pixels whose 7 x 7 windows are gathered at once by the refined Lee filter


def speckle_filter(db: np.ndarray, method: str, size: int, scale: str) -> np.ndarray:
    """Filter working-scale values (with a ``size // 2`` halo); returns the core in the same scale.

    Works on strips of 32 rows so that window stacks stay small whatever the block size.
    """
    h = size // 2
    rows = db.shape[0] - 2 * h
    if rows > CHUNK_ROWS and method not in ("none",) and size > 1:
        parts = [
            _filter(db[r : min(r + CHUNK_ROWS, rows) + 2 * h], method, size, scale) for r in range(0, rows, CHUNK_ROWS)
        ]
        return np.concatenate(parts, axis=0)
    return _filter(db, method, size, scale)


def _filter(db: np.ndarray, method: str, size: int, scale: str) -> np.ndarray:
    h = size // 2
    if method == "none" or size <= 1:
        return db[h : db.shape[0] - h, h : db.shape[1] - h] if h else db
    if method == "median":
        return median_filter(db, size)
    if method == "refined_lee":
        if scale == "display8":
            raise ParameterError("Refined Lee needs calibrated backscatter; use the median filter on display images.")
        with np.errstate(over="ignore"):
            intensity = np.power(10.0, db.astype(np.float64) / 10.0)
        filtered = refined_lee(intensity, size)
        out = np.full(filtered.shape, np.nan, np.float32)
        pos = filtered > 0
        out[pos] = 10.0 * np.log10(filtered[pos])
        return out
    raise ParameterError(f"Unknown speckle filter '{method}'.")
