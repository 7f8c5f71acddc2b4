"""Running the input cases: the routes (``routes.py``), the burn map every burn case must give, and the
stacks several cases share (see ``input_cases.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from changelens.core.io.radiometry import DATE_RADIOMETRY_CHOICES, RADIOMETRY_CHOICES
from input_cases import BURN_ROWS, burn_truth, landsat_dn, s2_dn, write
from rasters import read
from routes import ROUTES, RunFailed, run

BURN, SAR = "changelens:burnseverity", "changelens:sarflood"
RAD = {key: index for index, (key, _label) in enumerate(RADIOMETRY_CHOICES)}
DATE_RAD = {key: index for index, (key, _label) in enumerate(DATE_RADIOMETRY_CHOICES)}
S2_GT, LANDSAT_GT = (600000, 20, 0, 4400040, 0, -20), (500000, 30, 0, 4300020, 0, -30)
BLOCK_PX = 32 * 32
HIGH, UNBURNED, REGROWTH = 7, 3, (1, 2)
__all__ = ["ROUTES", "RunFailed", "run"]  # re-exported for the input tests, with the names below


def burn_outputs(folder: Path) -> dict[str, str]:
    return {"OUTPUT_DNBR": str(folder / "dnbr.tif"), "OUTPUT_SEVERITY": str(folder / "severity.tif")}


def assert_burn_map(out: dict[str, Any], nodata_cols: int, pixel_m2: float) -> None:
    """Block rows/cols 16-47 High severity (dNBR 0.75), other valid pixels Unburned (0.00), the first
    ``nodata_cols`` columns no data (severity 0, dNBR NaN), areas from ``pixel_m2``."""
    dnbr, severity = read(out["OUTPUT_DNBR"]), read(out["OUTPUT_SEVERITY"])
    assert np.isnan(dnbr[:, :nodata_cols]).all() and (severity[:, :nodata_cols] == 0).all()
    valid = np.ones(severity.shape, bool)
    valid[:, :nodata_cols] = False
    block = np.zeros(severity.shape, bool)
    block[BURN_ROWS, BURN_ROWS] = True
    assert (severity[block] == HIGH).all() and np.allclose(dnbr[block], 0.75, atol=1e-3)
    assert (severity[valid & ~block] == UNBURNED).all() and np.allclose(dnbr[valid & ~block], 0.0, atol=1e-3)
    assert not np.isin(severity, REGROWTH).any()
    assert out["VALID_AREA_HA"] == pytest.approx(int(valid.sum()) * pixel_m2 / 1e4)
    assert out["BURNED_AREA_HA"] == pytest.approx(BLOCK_PX * pixel_m2 / 1e4)


def s2_stacks(folder: Path, nodata_cols: int = 10) -> tuple[str, str]:
    """The case's plain stacks exported from the SAFE: B8A/B12 with the +1000 offset, DN 0 in the first
    columns of the pre-fire stack, no no-data flag, no product metadata."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = [s2_dn(nir, 1000), s2_dn(swir, 1000)]
    for band in pre:
        band[:, :nodata_cols] = 0
    names = ["B8A", "B12"]
    return (
        write(folder / "stack_pre_pb0509.tif", pre, S2_GT, names=names),
        write(folder / "stack_post_pb0509.tif", [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)], S2_GT, names=names),
    )


def landsat_stacks(folder: Path, stem: str, names: list[str], nodata_cols: int = 12) -> tuple[str, str]:
    nir, swir, post_nir, post_swir = burn_truth()
    pre = [landsat_dn(nir), landsat_dn(swir)]
    for band in pre:
        band[:, :nodata_cols] = 0
    return (
        write(folder / f"{stem}_pre_gee.tif", pre, LANDSAT_GT, names=names),
        write(folder / f"{stem}_post_gee.tif", [landsat_dn(post_nir), landsat_dn(post_swir)], LANDSAT_GT, names=names),
    )
