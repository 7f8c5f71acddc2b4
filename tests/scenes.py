"""Small seeded synthetic scenes (textured, with a burn scar) for output and report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasters import write_raster

S2_BANDS = ["B2", "B3", "B4", "B8", "B12"]


def burn_scene(folder: Path, rows: int = 90, cols: int = 120, seed: int = 7) -> tuple[str, str]:
    """Pre/post Sentinel-2-like 5-band images (DN = reflectance x 10000) with a graded burn scar.

    Vegetation everywhere before; after, an ellipse burns with severity rising to its centre,
    plus a few one-pixel specks that a minimum mapping unit should remove.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    texture = 0.015 * np.sin(xx / 11.0) * np.cos(yy / 13.0) + rng.normal(0, 0.003, (rows, cols))
    veg = {"B2": 0.03, "B3": 0.065, "B4": 0.035, "B8": 0.38, "B12": 0.10}
    burnt = {"B2": 0.035, "B3": 0.04, "B4": 0.05, "B8": 0.10, "B12": 0.26}
    pre = np.stack([(veg[b] + texture * (3 if b == "B8" else 1)) for b in S2_BANDS])
    r = np.sqrt(((xx - cols * 0.45) / (cols * 0.28)) ** 2 + ((yy - rows * 0.5) / (rows * 0.32)) ** 2)
    weight = np.clip(1.3 - r, 0, 1)  # 1 in the core, fading to 0 at the rim
    for y, x in rng.integers(0, [rows, cols], size=(6, 2)):
        if weight[y, x] == 0:
            weight[y, x] = 0.8
    post = np.stack([(1 - weight) * (veg[b] + texture) + weight * (burnt[b] + texture * 0.5) for b in S2_BANDS])
    scale = lambda a: np.clip(a * 10000, 1, 10000).astype(np.float32)  # noqa: E731
    a = write_raster(folder / "pre.tif", scale(pre), descriptions=S2_BANDS)
    b = write_raster(folder / "post.tif", scale(post), descriptions=S2_BANDS)
    return a, b


S2_VNIR = ["B2", "B3", "B4", "B8", "B11"]
VEGETATION = (500, 800, 600, 3000, 2000)  # reflectance x 10000 of blue, green, red, NIR, SWIR1
WATER = (600, 700, 500, 300, 200)
BARE = (1500, 1600, 1800, 2000, 2500)


def s2_image(folder: Path, name: str, fill: tuple, patches: tuple = (), noise: float = 0.0, extra=None) -> str:  # noqa: ANN001
    """A 40 x 40 five-band Sentinel-2-like image: ``fill`` everywhere, ``(rows, cols), values`` patches."""
    img = np.stack([np.full((40, 40), v, np.float32) for v in fill])
    for (rows, cols), values in patches:
        img[:, rows, cols] = np.array(values, np.float32)[:, None, None]
    if noise:
        img += np.random.default_rng(len(name)).normal(0, noise, img.shape).astype(np.float32)
    names = list(S2_VNIR)
    if extra is not None:
        img, names = np.concatenate([img, extra[1][None].astype(np.float32)]), names + [extra[0]]
    return write_raster(folder / name, img, descriptions=names)


def sar_pair(folder: Path) -> tuple[str, str]:
    """VV/VH dB images: a river (6 columns) on both dates, the lower half flooded after."""
    rng = np.random.default_rng(0)
    before = np.stack([np.full((40, 40), -8, np.float32), np.full((40, 40), -15, np.float32)])
    before += rng.normal(0, 1, before.shape).astype(np.float32)
    before[:, :, :6] -= 14
    after = before.copy()
    after[:, 20:, 6:] -= 14
    a = write_raster(folder / "s1_before.tif", before, descriptions=["VV", "VH"])
    b = write_raster(folder / "s1_after.tif", after, descriptions=["VV", "VH"])
    return a, b


def slope_dem(folder: Path, steep_from_col: int = 30) -> str:
    """A 40 x 40 DEM (10 m), gentle, then about 27 degrees from ``steep_from_col``."""
    dem = np.tile(np.arange(40, dtype=np.float32) * 0.1, (40, 1))
    dem[:, steep_from_col:] += np.arange(40 - steep_from_col, dtype=np.float32) * 5.0
    return write_raster(folder / "dem.tif", dem)
