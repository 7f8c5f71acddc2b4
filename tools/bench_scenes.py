"""Generated Sentinel-like scene pairs for the benchmarks, written strip by strip (memory stays small).

Every scene is a before/after pair of tiled, uncompressed GeoTIFFs on one UTM grid (10 m pixels),
with the bands one method reads, described by name so that band roles are found as in real
products. Values are seeded noise around a land-cover texture, with a change in a disc in the
middle (a burn scar, new water, a backscatter drop, a spectral change), so every method maps more
than one class and compression sees realistic entropy. A scene is made once per folder and size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from osgeo import gdal, osr

STRIP_ROWS = 512
ORIGIN = (300000.0, 5000040.0)


@dataclass(frozen=True)
class SceneKind:
    """A kind of pair: its band names, data type and the function that makes one date's strip.

    ``strip(rows, cols, disc, after, rng)`` returns the bands (bands x rows x cols) of a strip whose
    pixels inside the change disc are True in ``disc``.
    """

    bands: tuple[str, ...]
    data_type: int
    strip: Callable[[np.ndarray, np.ndarray, np.ndarray, bool, np.random.Generator], np.ndarray]


def _texture(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.sin(cols / 300.0)[None, :] * np.cos(rows / 420.0)[:, None]


def _dn(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 1, 65535).astype(np.uint16)


def _burn(rows, cols, disc, after, rng):  # noqa: ANN001, ANN202
    shape = (rows.size, cols.size)
    t = _texture(rows, cols)
    nir = 2500 + 800 * t + rng.normal(0, 150, shape)
    swir = 1200 + 300 * t + rng.normal(0, 80, shape)
    if after:
        nir = np.where(disc, nir * 0.5, nir)
        swir = np.where(disc, swir * 1.6, swir)
    return np.stack([_dn(nir), _dn(swir)])


def _water(rows, cols, disc, after, rng):  # noqa: ANN001, ANN202
    shape = (rows.size, cols.size)
    t = _texture(rows, cols)
    river = (np.abs(cols[None, :] - 2000 - 300 * np.sin(rows[:, None] / 900.0)) < 60) | np.zeros(shape, bool)
    water = river | disc if after else river
    green = np.where(water, 700, 800 + 150 * t) + rng.normal(0, 60, shape)
    swir1 = np.where(water, 200, 2000 + 400 * t) + rng.normal(0, 90, shape)
    return np.stack([_dn(green), _dn(swir1)])


def _sar(rows, cols, disc, after, rng):  # noqa: ANN001, ANN202
    shape = (rows.size, cols.size)
    level = -9.0 + 2.0 * _texture(rows, cols)
    if after:
        level = np.where(disc, -21.0, level)
    speckle = 10.0 * np.log10(rng.gamma(4.4, 1.0 / 4.4, shape))  # 4.4-look intensity speckle, in dB
    return (level + speckle).astype(np.float32)[None]


def _spectral(rows, cols, disc, after, rng):  # noqa: ANN001, ANN202
    shape = (rows.size, cols.size)
    t = _texture(rows, cols)
    base = {"B2": 500, "B3": 800, "B4": 600, "B8": 3000}
    built = {"B2": 1400, "B3": 1500, "B4": 1700, "B8": 2100}
    out = []
    for name, value in base.items():
        band = value * (1.0 + 0.2 * t) + rng.normal(0, 0.05 * value, shape)
        if after:
            band = np.where(disc, built[name] + rng.normal(0, 0.05 * built[name], shape), band)
        out.append(_dn(band))
    return np.stack(out)


KINDS = {
    "burn": SceneKind(("B8", "B12"), gdal.GDT_UInt16, _burn),
    "water": SceneKind(("B3", "B11"), gdal.GDT_UInt16, _water),
    "sar": SceneKind(("VV",), gdal.GDT_Float32, _sar),
    "spectral": SceneKind(("B2", "B3", "B4", "B8"), gdal.GDT_UInt16, _spectral),
}


def write_date(path: Path, kind: SceneKind, size_px: int, seed: int, after: bool) -> None:
    """One date of ``kind``: ``size_px`` square, tiled and uncompressed, bands described by name."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    tmp = path.with_suffix(".partial.tif")
    ds = gdal.GetDriverByName("GTiff").Create(
        str(tmp), size_px, size_px, len(kind.bands), kind.data_type, ["TILED=YES", "COMPRESS=NONE", "BIGTIFF=YES"]
    )
    ds.SetGeoTransform((ORIGIN[0], 10.0, 0.0, ORIGIN[1], 0.0, -10.0))
    ds.SetProjection(srs.ExportToWkt())
    for i, name in enumerate(kind.bands, start=1):
        ds.GetRasterBand(i).SetDescription(name)
        if kind.data_type != gdal.GDT_Float32:
            ds.GetRasterBand(i).SetNoDataValue(0)
    rng = np.random.default_rng(seed)
    cols = np.arange(size_px, dtype=np.float64)
    for row in range(0, size_px, STRIP_ROWS):
        rows = np.arange(row, min(row + STRIP_ROWS, size_px), dtype=np.float64)
        disc = ((rows[:, None] - size_px / 2) ** 2 + (cols[None, :] - size_px / 2) ** 2) < (size_px / 4) ** 2
        bands = kind.strip(rows, cols, disc, after, rng)
        for i in range(bands.shape[0]):
            ds.GetRasterBand(i + 1).WriteArray(bands[i], 0, row)
    ds = None
    tmp.rename(path)


def scene(folder: Path, name: str, size_px: int) -> tuple[str, str]:
    """The before and after files of scene ``name`` (a key of :data:`KINDS`), made when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed, date in ((1, "before"), (2, "after")):
        path = folder / f"{name}_{date}_{size_px}.tif"
        if not path.exists():
            write_date(path, KINDS[name], size_px, seed, date == "after")
        paths.append(str(path))
    return paths[0], paths[1]
