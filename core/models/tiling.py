"""Tiling for model inference: tile positions, blending weights and the row accumulator.

Tiles are ``tile`` pixels wide, ``overlap`` pixels shared with each neighbour; the
last tile of a row or column is moved back to end at the raster edge so that every
tile is full size. Each tile's weight discards the outer quarter of every overlap
that a neighbour covers (where a convolutional model sees the tile's edge, not the
image) and ramps up with a Hann (sin²) curve over the rest; raster edges get full
weight. Blended probabilities are the weighted mean of every tile covering a pixel,
accumulated one band of tile rows at a time (:class:`RowAccumulator`).
"""

from __future__ import annotations

import functools
import math
from typing import Iterator

import numpy as np

from ..io.windows import Window

PIECE_WIDTH_PX = 1024  # columns classified at a time when a band of tiles is finished


def tile_starts(length_px: int, tile_px: int, overlap_px: int) -> list[int]:
    """Start offsets of the tiles along one axis (one tile when the raster is not longer than a tile)."""
    if tile_px <= 0 or not 0 <= overlap_px < tile_px:
        raise ValueError("tile must be > 0 and 0 <= overlap < tile")
    if length_px <= tile_px:
        return [0]
    stride = tile_px - overlap_px
    starts = list(range(0, length_px - tile_px, stride))
    if starts[-1] != length_px - tile_px:
        starts.append(length_px - tile_px)
    return starts


def discard_margin_px(overlap_px: int) -> int:
    """Pixels at a tile's inner edge given no weight: a quarter of the overlap."""
    return overlap_px // 4


def ramp(overlap_px: int) -> np.ndarray:
    """Weights (1-D float32 of length ``overlap``) across one overlap, from the tile's edge inwards:
    zeros over the outer quarter, then a Hann (sin²) rise to 1.
    """
    margin = discard_margin_px(overlap_px)
    rise = overlap_px - 2 * margin
    out = np.zeros(overlap_px, dtype=np.float32)
    if rise > 0:
        t = (np.arange(rise, dtype=np.float64) + 0.5) / rise
        out[margin : margin + rise] = np.sin(0.5 * math.pi * t) ** 2
    out[margin + rise :] = 1.0
    return out


def weights_1d(tile_px: int, overlap_px: int, first: bool, last: bool) -> np.ndarray:
    """Weights (1-D float32 of length ``tile``) along one axis of a tile; ``first``/``last`` say the tile
    touches the raster's start/end (full weight there).
    """
    out = np.ones(tile_px, dtype=np.float32)
    if overlap_px <= 0:
        return out
    edge = ramp(overlap_px)
    if not first:
        out[:overlap_px] *= edge
    if not last:
        out[tile_px - overlap_px :] *= edge[::-1]
    return out


def tile_weights(
    tile_px: int, overlap_px: int, row_start: int, col_start: int, height_px: int, width_px: int
) -> np.ndarray:
    """The 2-D blending weight of the tile at (``row_start``, ``col_start``) in a raster of the given size.

    Read-only and shared: a raster has at most nine variants (edges, corners, interior).
    """
    return _edge_weights(
        tile_px,
        overlap_px,
        row_start == 0,
        row_start + tile_px >= height_px,
        col_start == 0,
        col_start + tile_px >= width_px,
    )


@functools.lru_cache(maxsize=32)
def _edge_weights(
    tile_px: int, overlap_px: int, first_row: bool, last_row: bool, first_col: bool, last_col: bool
) -> np.ndarray:
    weights = np.outer(
        weights_1d(tile_px, overlap_px, first_row, last_row), weights_1d(tile_px, overlap_px, first_col, last_col)
    )
    weights.flags.writeable = False
    return weights


def _shift_rows(buf: np.ndarray, count: int) -> None:
    """Move rows (second-to-last axis) up by ``count`` and clear the freed rows at the bottom."""
    rows = buf.shape[-2]
    if count < rows:
        buf[..., : rows - count, :] = buf[..., count:, :]
    buf[..., max(rows - count, 0) :, :] = 0


class RowAccumulator:
    """Blended probabilities, weights and the valid mask for the rows one band of tiles covers."""

    def __init__(self, classes: int, tile: int, width: int) -> None:
        self.prob = np.zeros((classes, tile, width), dtype=np.float32)
        self.weight = np.zeros((tile, width), dtype=np.float32)
        self.valid = np.zeros((tile, width), dtype=bool)
        self.row0 = 0

    def add(self, probs: np.ndarray, weights: np.ndarray, window: Window) -> None:
        """Add a batch item's probabilities ``[classes, tile, tile]`` times its weights ``[tile, tile]``
        at ``window`` (clipped to the raster).
        """
        rows = slice(window.row_off - self.row0, window.row_off - self.row0 + window.height)
        cols = slice(window.col_off, window.col_end)
        w = weights[: window.height, : window.width]
        self.prob[:, rows, cols] += probs[:, : window.height, : window.width] * w
        self.weight[rows, cols] += w

    def mark_valid(self, valid: np.ndarray, window: Window) -> None:
        """Mark the pixels of ``window`` where the tile had data (``valid``: bool of the window's shape)."""
        rows = slice(window.row_off - self.row0, window.row_off - self.row0 + window.height)
        self.valid[rows, window.col_off : window.col_end] |= valid

    def finished(self, count: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Blended probabilities and 'has data' masks of the first ``count`` rows, in column pieces.

        Pieces of at most :data:`PIECE_WIDTH_PX` keep temporaries small whatever the raster width.
        """
        width = self.weight.shape[1]
        for col in range(0, width, PIECE_WIDTH_PX):
            cols = slice(col, min(col + PIECE_WIDTH_PX, width))
            weight = self.weight[:count, cols]
            has = (weight > 0) & self.valid[:count, cols]
            probs = self.prob[:, :count, cols] / np.where(weight > 0, weight, np.float32(1.0))
            yield col, probs, has

    def advance(self, count: int) -> None:
        """Drop the first ``count`` rows (written) and move the buffer down."""
        for buf in (self.prob, self.weight, self.valid):
            _shift_rows(buf, count)
        self.row0 += count
