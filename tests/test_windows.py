"""Property tests of the pure window arithmetic."""

from __future__ import annotations

import numpy as np
from changelens.core.io.windows import Window, block_windows, count_blocks, halo_windows, with_halo
from hypothesis import given
from hypothesis import strategies as st

sizes = st.integers(min_value=1, max_value=300)
blocks = st.integers(min_value=1, max_value=128)


@given(sizes, sizes, blocks, blocks)
def test_blocks_cover_raster_exactly_once(width: int, height: int, bw: int, bh: int) -> None:
    cover = np.zeros((height, width), np.int32)
    windows = list(block_windows(width, height, bw, bh))
    for w in windows:
        assert 0 < w.width <= bw and 0 < w.height <= bh
        cover[w.row_off : w.row_end, w.col_off : w.col_end] += 1
    assert (cover == 1).all()
    assert len(windows) == count_blocks(width, height, bw, bh)


@given(sizes, sizes, blocks, blocks)
def test_blocks_are_aligned_on_the_block_grid(width: int, height: int, bw: int, bh: int) -> None:
    for w in block_windows(width, height, bw, bh):
        assert w.col_off % bw == 0 and w.row_off % bh == 0


@given(sizes, sizes, blocks, blocks, st.integers(min_value=0, max_value=20))
def test_halo_contains_core_and_stays_inside(width: int, height: int, bw: int, bh: int, halo: int) -> None:
    image = np.arange(width * height).reshape(height, width)
    for hw in halo_windows(width, height, bw, bh, halo):
        read = hw.read
        assert 0 <= read.col_off and 0 <= read.row_off and read.col_end <= width and read.row_end <= height
        assert read.intersection(hw.core) == hw.core
        # Each side grows by the halo unless clipped by the raster edge.
        assert hw.core.col_off - read.col_off == min(halo, hw.core.col_off)
        assert read.row_end - hw.core.row_end == min(halo, height - hw.core.row_end)
        block = image[read.row_off : read.row_end, read.col_off : read.col_end]
        rows, cols = hw.core_slices()
        core = image[hw.core.row_off : hw.core.row_end, hw.core.col_off : hw.core.col_end]
        assert np.array_equal(block[rows, cols], core)


@given(
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
)
def test_intersection_is_commutative_and_contained(a, b, c, d, e, f, g, h) -> None:  # noqa: ANN001
    w1, w2 = Window(a, b, c, d), Window(e, f, g, h)
    inter = w1.intersection(w2)
    assert inter == w2.intersection(w1) or inter.size == 0 == w2.intersection(w1).size
    if inter.size:
        assert w1.intersection(inter) == inter and w2.intersection(inter) == inter


def test_halo_rejects_negative() -> None:
    import pytest

    with pytest.raises(ValueError):
        with_halo(Window(0, 0, 2, 2), -1, 10, 10)
