"""Cloud and shadow masks a date carries, applied as no data to every band read from it.

Masks found by band name in the date's raster (a product's stack holds them under these names):

* Sentinel-2 L2A scene classification ``SCL``: saturated or defective (1), cloud shadow (3), cloud medium
  and high probability (8, 9), thin cirrus (10), snow or ice (11); its no-data class (0) is left to the
  bands' own no-data rules (a subdataset whose SCL file is missing reads 0 everywhere);
* Sentinel-2 ``MSK_CLASSI_B00`` (processing baseline 04.00 and later, L1C and L2A; 60 m): opaque clouds,
  cirrus and snow/ice layers (``MSK_CLASSI_OPAQUE``, ``_CIRRUS``, ``_SNOW``); it has no shadow layer;
* Landsat Collection 2 ``QA_PIXEL`` bits: fill (0), dilated cloud (1), cirrus (2), cloud (3), cloud
  shadow (4), snow (5).

A :class:`MaskReader` reads the mask on the run's grid (nearest) and answers which pixels of a window are
masked; band readers turn those pixels into no data, so every optical method and every model input sees
the same clouds. :func:`masked_share` says what share of the date's pixels a mask removed.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from dataclasses import dataclass
from typing import ContextManager, Sequence

import numpy as np
from osgeo import gdal

from .raster import band_names, canonical_band_name
from .windows import Window

SCL_MASKED = (1, 3, 8, 9, 10, 11)
QA_PIXEL_BITS = {0: "fill", 1: "dilated cloud", 2: "cirrus", 3: "cloud", 4: "cloud shadow", 5: "snow"}
QA_PIXEL_MASK = sum(1 << bit for bit in QA_PIXEL_BITS)
MSK_CLASSI = ("MSK_CLASSI_OPAQUE", "MSK_CLASSI_CIRRUS", "MSK_CLASSI_SNOW")
CLOUD_MASKS = (
    ("auto", "Automatic: the product's own mask (Sentinel-2 SCL or MSK_CLASSI, Landsat QA_PIXEL) when it has one"),
    ("none", "No cloud mask"),
    ("csmask", "The product's mask, else compute one with ukis-csmask (optional package)"),
)
MASK_HELP = (
    "Cloud, shadow, cirrus and snow pixels become no data on every date. Automatic uses the mask the product "
    "carries: Sentinel-2 SCL (L2A) or MSK_CLASSI_B00 (baseline 04.00 and later), Landsat QA_PIXEL; the log and "
    "the report give the share masked per date. The ukis-csmask choice also computes a cloud and shadow mask "
    "(DLR's CNN, run on onnxruntime) for dates without one; it needs the optional ukis-csmask package "
    "(install it with Doctor… in the ChangeLens panel)."
)


@dataclass(frozen=True)
class MaskRule:
    """Which raw values of a date's mask bands are masked: ``kind`` is ``scl``, ``qa_pixel``, ``msk_classi``
    or ``csmask``; ``bands`` are 1-based bands of the dataset the rule reads."""

    kind: str
    bands: tuple[int, ...]
    label: str

    def masked(self, raw: Sequence[np.ndarray]) -> np.ndarray:
        """Boolean array (shape of each of ``raw``, one 2-D array per band): True where masked."""
        first = np.asarray(raw[0])
        if self.kind == "scl":
            return np.isin(np.nan_to_num(first, nan=0).astype(np.int64), SCL_MASKED)
        if self.kind == "qa_pixel":
            return (np.nan_to_num(first, nan=1).astype(np.int64) & QA_PIXEL_MASK) != 0
        out = np.zeros(first.shape, bool)
        for layer in raw:
            out |= np.nan_to_num(np.asarray(layer), nan=0) != 0
        return out


def find_mask(ds: gdal.Dataset, chosen: dict[str, int] | None = None) -> MaskRule | None:
    """The mask a date's raster carries, by band name (``SCL``, ``QA_PIXEL``, ``MSK_CLASSI_*``), or the
    band the user chose for the ``scl``/``qa`` role (``chosen``); None when it carries none."""
    chosen = chosen or {}
    if chosen.get("scl"):
        return MaskRule("scl", (chosen["scl"],), f"Sentinel-2 SCL (band {chosen['scl']})")
    if chosen.get("qa"):
        return MaskRule("qa_pixel", (chosen["qa"],), f"Landsat QA_PIXEL (band {chosen['qa']})")
    named: dict[str, int] = {}
    for index in range(1, ds.RasterCount + 1):
        for name in band_names(ds, index):
            named.setdefault(canonical_band_name(name), index)
    if "SCL" in named:
        return MaskRule("scl", (named["SCL"],), f"Sentinel-2 SCL (band {named['SCL']})")
    if "QA_PIXEL" in named:
        return MaskRule("qa_pixel", (named["QA_PIXEL"],), f"Landsat QA_PIXEL (band {named['QA_PIXEL']})")
    layers = tuple(named[n] for n in MSK_CLASSI if n in named)
    if layers:
        return MaskRule("msk_classi", layers, "Sentinel-2 MSK_CLASSI_B00 (opaque clouds, cirrus, snow; no shadows)")
    return None


def rule_text(rule: MaskRule) -> str:
    """What the rule masks, in words."""
    if rule.kind == "scl":
        return "SCL classes 1, 3, 8, 9, 10, 11 (defective, cloud shadow, cloud, cirrus, snow)"
    if rule.kind == "qa_pixel":
        return "QA_PIXEL bits " + ", ".join(f"{b} {n}" for b, n in QA_PIXEL_BITS.items())
    if rule.kind == "msk_classi":
        return "MSK_CLASSI opaque clouds, cirrus and snow (the mask has no cloud shadows)"
    return "cloud and cloud shadow classes, buffered by 4 pixels"


class MaskReader:
    """Masked pixels of one date on the run's grid: ``view`` is the mask raster on that grid (nearest).

    The last window read is kept, because every band of a date asks for the same window in turn.
    """

    def __init__(self, view: gdal.Dataset, rule: MaskRule, keep: Sequence[object] = ()) -> None:
        self.view = view
        self.rule = rule
        self._keep = tuple(keep)  # datasets the view reads from
        self._last: tuple[tuple[int, int, int, int], np.ndarray] | None = None
        self._lock: ContextManager[object] = contextlib.nullcontext()

    def with_view(self, view: gdal.Dataset | None, lock: threading.Lock | None = None) -> MaskReader:
        """A copy for another thread: reading through ``view`` (another handle on the same mask), or through
        this view with every read serialised by ``lock`` when ``view`` is None; its own last window."""
        clone = copy.copy(self)
        clone._last = None
        if view is not None:
            clone.view, clone._keep = view, (*self._keep, self.view)
            clone._lock = contextlib.nullcontext()
        elif lock is not None:
            clone._lock = lock
        return clone

    def read(self, window: Window) -> np.ndarray:
        """Boolean mask of shape ``(window.height, window.width)``: True where the date is masked."""
        key = (window.col_off, window.row_off, window.width, window.height)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        with self._lock:
            raw = [self.view.GetRasterBand(b).ReadAsArray(*key) for b in self.rule.bands]
        masked = self.rule.masked(raw)
        self._last = (key, masked)
        return masked

    def sample(self, shape: tuple[int, int]) -> np.ndarray:
        """Boolean mask of a nearest-neighbour decimated read of the whole grid, ``shape`` = (rows, cols)."""
        width, height = self.view.RasterXSize, self.view.RasterYSize
        raw = [
            self.view.GetRasterBand(b).ReadAsArray(
                0, 0, width, height, buf_xsize=shape[1], buf_ysize=shape[0], resample_alg=gdal.GRIORA_NearestNeighbour
            )
            for b in self.rule.bands
        ]
        return self.rule.masked(raw)
