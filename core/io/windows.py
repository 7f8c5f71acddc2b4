"""Pure tiling arithmetic: block-aligned windows and halos (no I/O).

Windows are frozen values in pixel coordinates, like rasterio's ``Window``; every
function here is pure so it can be property-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

STRIP_WIDTH_PX = 4096
STRIP_HEIGHT_PX = 256


def strip_shape(width_px: int, block_width_px: int = STRIP_WIDTH_PX) -> tuple[int, int]:
    """(width, height) of a processing block: ``block_width_px`` (4096 by default) or the raster's width,
    and 256 rows.

    256 rows match the 256 px tiles ChangeLens writes, so a block never splits an output tile.
    """
    return min(width_px, block_width_px), STRIP_HEIGHT_PX


@dataclass(frozen=True)
class Window:
    """A rectangle of pixels: offsets and size in pixels."""

    col_off: int
    row_off: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width < 0 or self.height < 0:
            raise ValueError(f"window size must be >= 0, got {self.width}x{self.height}")

    @property
    def col_end(self) -> int:
        """One past the last column."""
        return self.col_off + self.width

    @property
    def row_end(self) -> int:
        """One past the last row."""
        return self.row_off + self.height

    @property
    def size(self) -> int:
        """Number of pixels in the window."""
        return self.width * self.height

    def intersection(self, other: Window) -> Window:
        """The overlap with ``other`` (an empty window if none)."""
        col0 = max(self.col_off, other.col_off)
        row0 = max(self.row_off, other.row_off)
        col1 = min(self.col_end, other.col_end)
        row1 = min(self.row_end, other.row_end)
        return Window(col0, row0, max(col1 - col0, 0), max(row1 - row0, 0))

    def relative_to(self, outer: Window) -> tuple[slice, slice]:
        """Row and column slices selecting this window inside an array read for ``outer``."""
        r0 = self.row_off - outer.row_off
        c0 = self.col_off - outer.col_off
        return slice(r0, r0 + self.height), slice(c0, c0 + self.width)


@dataclass(frozen=True)
class HaloWindow:
    """A core window to compute plus the larger window to read around it."""

    core: Window
    read: Window

    def core_slices(self) -> tuple[slice, slice]:
        """Slices that cut the core out of an array read for :attr:`read`."""
        return self.core.relative_to(self.read)


def block_windows(width_px: int, height_px: int, block_width_px: int, block_height_px: int) -> Iterator[Window]:
    """Row-major windows of at most ``block_*`` pixels that tile the raster exactly."""
    if block_width_px <= 0 or block_height_px <= 0:
        raise ValueError("block size must be positive")
    for row in range(0, height_px, block_height_px):
        h = min(block_height_px, height_px - row)
        for col in range(0, width_px, block_width_px):
            yield Window(col, row, min(block_width_px, width_px - col), h)


def count_blocks(width_px: int, height_px: int, block_width_px: int, block_height_px: int) -> int:
    """Number of windows :func:`block_windows` yields."""
    return (-(-width_px // block_width_px)) * (-(-height_px // block_height_px))


def with_halo(window: Window, halo_px: int, width_px: int, height_px: int) -> HaloWindow:
    """Grow ``window`` by ``halo_px`` on every side, clipped to the raster."""
    if halo_px < 0:
        raise ValueError("halo must be >= 0")
    col0 = max(window.col_off - halo_px, 0)
    row0 = max(window.row_off - halo_px, 0)
    col1 = min(window.col_end + halo_px, width_px)
    row1 = min(window.row_end + halo_px, height_px)
    return HaloWindow(window, Window(col0, row0, col1 - col0, row1 - row0))


def halo_windows(
    width_px: int, height_px: int, block_width_px: int, block_height_px: int, halo_px: int
) -> Iterator[HaloWindow]:
    """Block windows, each with the halo a neighbourhood operation needs."""
    for window in block_windows(width_px, height_px, block_width_px, block_height_px):
        yield with_halo(window, halo_px, width_px, height_px)
