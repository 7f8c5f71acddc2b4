"""The cloud mask of one date on the run's grid: the product's own, or ukis-csmask's, or none (and why)."""

from __future__ import annotations

import os
import tempfile
from typing import Callable, Mapping, Sequence

import numpy as np
from osgeo import gdal

from ..errors import EmptyDataError
from ..progress import Log, no_log
from .cloudmask import compute_csmask
from .grid import Grid, warp_to_grid
from .masks import MaskReader, find_mask, rule_text
from .raster import BandReader, Radiometry, open_raster
from .validity import Fill
from .windows import block_windows, strip_shape

# (band of each cloud-mask role, conversions, fills, product level) of a date, for ukis-csmask.
CsmaskInputs = Callable[[], tuple[Mapping[str, int], Mapping[int, Radiometry], Mapping[int, Fill], str]]


def date_cloud_mask(
    ds: gdal.Dataset,
    view: gdal.Dataset,
    grid: Grid,
    choice: str,
    chosen: Mapping[str, int],
    readers: Sequence[BandReader],
    csmask_inputs: CsmaskInputs | None,
    scratch: str | None,
    key: str,
    label: str,
    log: Log = no_log,
    optical: bool = True,
) -> MaskReader | None:
    """The cloud mask of one date (``ds``, shown on ``grid`` by ``view``), or None.

    ``choice``: ``auto`` (the mask the raster carries: SCL, QA_PIXEL, MSK_CLASSI), ``none``, or ``csmask``
    (the raster's mask, else ukis-csmask's from ``csmask_inputs``, written in ``scratch``). ``chosen`` holds
    the user's ``scl``/``qa`` band. ``readers`` are the date's band readers on ``grid``: the masked share is
    counted over their valid pixels. Logs the mask used and the share it removed, or that there is none
    (for ``optical`` sensors only: a raster of unknown kind without a mask is no news).
    """
    if choice == "none":
        log(f"{label}: cloud mask off (the cloud-mask option is 'No cloud mask').")
        return None
    rule = find_mask(ds, {k: v for k, v in chosen.items() if v})
    keep: list[object] = [ds]
    if rule is not None:
        mask_view = view if view is ds else warp_to_grid(ds, grid, "nearest")
    elif choice == "csmask" and csmask_inputs is not None:
        indices, conversions, fills, level = csmask_inputs()
        folder = scratch or tempfile.mkdtemp(prefix="changelens-mask-")  # never beside the user's files
        path = os.path.join(folder, f"{key or 'date'}_csmask.tif")
        rule = compute_csmask(ds, indices, conversions, fills, level, path, label, log)
        mask_ds = open_raster(path)
        keep.append(mask_ds)
        mask_view = warp_to_grid(mask_ds, grid, "nearest")
    else:
        if not optical and choice == "auto":
            return None
        log(
            f"{label}: no cloud mask with the file (no SCL, QA_PIXEL or MSK_CLASSI band): clouds and their shadows "
            "count as surface; the cloud-mask option 'ukis-csmask' computes one."
        )
        return None
    mask = MaskReader(mask_view, rule, keep)
    valid = np.ones((1, 1), bool)
    if readers:
        valid = readers[0].valid_sample()
        for reader in readers[1:]:
            valid &= reader.valid_sample()
    share = 100.0 * float((mask.sample(valid.shape) & valid).sum()) / max(int(valid.sum()), 1)
    log(f"{label}: cloud mask {rule.label}, {rule_text(rule)}: {share:.1f} % of the date's valid pixels masked.")
    if readers and valid.any() and share >= 100.0 and not _any_clear(mask, readers, grid):
        raise EmptyDataError(
            f"The {label} is entirely covered by its cloud mask ({rule.label}): every valid pixel is cloud, cloud "
            "shadow or otherwise masked, so nothing of it can be mapped. Choose another date, or set the cloud-mask "
            "option to 'No cloud mask' (CLOUD_MASK=1) if the mask is wrong."
        )
    return mask


def _any_clear(mask: MaskReader, readers: Sequence[BandReader], grid: Grid) -> bool:
    """Whether any pixel of the grid is valid in every band of ``readers`` and not masked (read at full
    resolution, strip by strip: only asked when the decimated sample found none)."""
    for window in block_windows(grid.width_px, grid.height_px, *strip_shape(grid.width_px)):
        clear = ~mask.read(window)
        for reader in readers:
            if not clear.any():
                break
            clear &= np.isfinite(reader.read(window))
        if clear.any():
            return True
    return False
