"""One block-wise pass over the class raster, its region labels and the driving measure.

It recounts class pixels and ground areas, sums the measure per polygon and per class and
builds the measure's histogram; memory holds a few numbers per region and one block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal

from ..io.grid import Grid, grid_of, pixel_area_rows_m2, warp_to_grid
from ..io.raster import BandReader, open_raster
from ..io.windows import Window, block_windows, count_blocks, strip_shape
from ..progress import Progress, report
from .products import MapProduct
from .report import Histogram
from .stats import ClassStats

HISTOGRAM_BINS = 60


def measure_reader(product: MapProduct, grid: Grid) -> BandReader | None:
    """The driving measure on the class raster's grid (warped on the fly if needed), or None."""
    if not product.measure_raster:
        return None
    ds = open_raster(product.measure_raster)
    if grid_of(ds).same_as(grid):
        return BandReader(ds, 1)
    return BandReader(ds, 1, warp_to_grid(ds, grid, "bilinear"))


@dataclass
class Zonal:
    """Per-region pixel counts and measure sums (index = polygon feature id), per-class means, histogram."""

    pixels: np.ndarray
    sums: np.ndarray
    valid: np.ndarray
    class_means: dict[int, float | None] = field(default_factory=dict)
    histogram: Histogram | None = None

    def mean(self, fid: int) -> float | None:
        """Mean measure of polygon ``fid`` (None when it has no valid value)."""
        if fid >= len(self.valid) or self.valid[fid] == 0:
            return None
        return float(self.sums[fid] / self.valid[fid])


def histogram_range(reader: BandReader, product: MapProduct) -> tuple[float, float] | None:
    """0.5-99.5 percentile span of the measure, widened to show the threshold and breaks."""
    sample = reader.sample(512)
    if sample.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    marks = [v for v in (product.threshold, *product.breaks) if v is not None and math.isfinite(v)]
    if product.threshold is not None:
        lo, hi = min(lo, product.threshold), max(hi, product.threshold)
    inside = [v for v in marks if lo <= v <= hi]
    if inside:
        lo, hi = min(lo, *inside), max(hi, *inside)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.02 * (hi - lo)
    return lo - pad, hi + pad


def zonal_pass(
    class_ds: gdal.Dataset,
    labels: gdal.Dataset | None,
    max_fid: int,
    measure: BandReader | None,
    grid: Grid,
    product: MapProduct,
    stats: ClassStats,
    progress: Progress,
) -> Zonal:
    """Accumulate ``stats`` from the class raster and the per-region/per-class measure (see module doc)."""
    n = max_fid + 1
    zonal = Zonal(np.zeros(n, np.int64), np.zeros(n, np.float64), np.zeros(n, np.int64))
    class_sums, class_valid = np.zeros(256), np.zeros(256, np.int64)
    span = histogram_range(measure, product) if measure is not None else None
    edges = np.linspace(span[0], span[1], HISTOGRAM_BINS + 1) if span else None
    counts = np.zeros(HISTOGRAM_BINS, np.int64)
    block_w, block_h = strip_shape(grid.width_px)
    total = count_blocks(grid.width_px, grid.height_px, block_w, block_h)
    for done, w in enumerate(block_windows(grid.width_px, grid.height_px, block_w, block_h), start=1):
        cls = read_window(class_ds, w).astype(np.intp)
        stats.add(cls, pixel_area_rows_m2(grid, w.row_off, w.height))
        values = measure.read(w) if measure is not None else None
        finite = np.isfinite(values) if values is not None else None
        if labels is not None:
            lab = read_window(labels, w).astype(np.intp).ravel()
            zonal.pixels += np.bincount(lab, minlength=n)[:n]
            if values is not None:
                ok = finite.ravel() & (lab > 0)
                zonal.sums += np.bincount(lab[ok], weights=values.ravel()[ok], minlength=n)[:n]
                zonal.valid += np.bincount(lab[ok], minlength=n)[:n]
        if values is not None:
            c = cls[finite]
            class_sums += np.bincount(c, weights=values[finite], minlength=256)[:256]
            class_valid += np.bincount(c, minlength=256)[:256]
            if edges is not None:
                counts += np.histogram(np.clip(values[finite], edges[0], edges[-1]), bins=edges)[0]
        report(progress, done / total)
    if measure is not None:
        zonal.class_means = {
            c.value: (float(class_sums[c.value] / class_valid[c.value]) if class_valid[c.value] else None)
            for c in product.scheme.classes
        }
        if edges is not None:
            zonal.histogram = Histogram(tuple(float(e) for e in edges), tuple(int(k) for k in counts))
    return zonal


def read_window(ds: gdal.Dataset, w: Window) -> np.ndarray:
    """Band 1 of ``ds`` at ``w`` as a 2-D array of shape ``(w.height, w.width)`` (stored dtype)."""
    return ds.GetRasterBand(1).ReadAsArray(w.col_off, w.row_off, w.width, w.height)
