"""A seeded, georeferenced before/after scene with known events, for `make demo`.

A 3 x 3 km valley at 10 m (UTM 33N): a river on a floodplain, hills with forest,
fields, grassland and a town. Between the dates: a burn scar, a flood of the
low floodplain, new buildings, and a landslide on a steep slope, plus a small
cloud, an illumination change and sensor noise. Sentinel-2-like bands
(reflectance x 10000, band descriptions, SCL on the after date), Sentinel-1-like
VV/VH in dB with gamma speckle, and a DEM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

SIZE_PX = 300
PIXEL_M = 10.0
ORIGIN = (500000.0, 5100000.0)
EPSG = 32633
S2_BANDS = ("B2", "B3", "B4", "B8", "B8A", "B11", "B12")
# Reflectance per land cover for the S2 bands above.
SPECTRA = {
    "water": (0.06, 0.07, 0.05, 0.03, 0.03, 0.015, 0.01),
    "forest": (0.03, 0.06, 0.035, 0.32, 0.33, 0.16, 0.07),
    "grass": (0.05, 0.09, 0.07, 0.38, 0.39, 0.24, 0.12),
    "crop": (0.06, 0.10, 0.09, 0.30, 0.31, 0.26, 0.16),
    "soil": (0.11, 0.14, 0.18, 0.25, 0.26, 0.32, 0.26),
    "urban": (0.12, 0.13, 0.14, 0.18, 0.18, 0.22, 0.20),
    "burn": (0.04, 0.05, 0.06, 0.10, 0.11, 0.20, 0.22),
    "cloud": (0.55, 0.55, 0.56, 0.60, 0.60, 0.45, 0.35),
}
# Mean backscatter in dB (VV, VH) per land cover.
BACKSCATTER = {
    "water": (-21.0, -28.0),
    "forest": (-7.5, -13.0),
    "grass": (-10.0, -17.0),
    "crop": (-9.5, -16.0),
    "soil": (-11.0, -19.0),
    "urban": (0.0, -6.0),
    "burn": (-10.5, -18.0),
}
COVERS = tuple(BACKSCATTER)


@dataclass
class Scene:
    """Land cover per date (indices into COVERS), DEM, and the event masks."""

    before: np.ndarray
    after: np.ndarray
    dem: np.ndarray
    cloud: np.ndarray
    events: dict[str, np.ndarray]


def fractal(rng: np.random.Generator, n: int, octaves: int = 5) -> np.ndarray:
    """Smooth multi-scale noise in [0, 1] (sum of upsampled random grids)."""
    out = np.zeros((n, n))
    for k in range(octaves):
        cells = 2 ** (k + 2)
        grid = rng.random((cells + 1, cells + 1))
        x = np.linspace(0, cells, n)
        i = np.minimum(x.astype(int), cells - 1)
        f = x - i
        f = f * f * (3 - 2 * f)  # smoothstep: no creases between cells
        rows = grid[i] * (1 - f)[:, None] + grid[i + 1] * f[:, None]
        layer = rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]
        out += layer / 2**k
    out -= out.min()
    return out / out.max()


def make_scene(seed: int = 7) -> Scene:
    """Build the land cover, terrain and events (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    n = SIZE_PX
    y, x = np.mgrid[0:n, 0:n].astype(float)
    river_x = 150 + 25 * np.sin(y / 45.0)
    dist = np.abs(x - river_x)
    hills = np.clip((x - 200) / 100.0, 0, 1)  # hills rise to the east
    relief = fractal(rng, n)
    dem = 100 + 0.05 * dist + 220 * hills**1.5 + (6 + 60 * hills) * relief
    cover = np.full((n, n), COVERS.index("grass"))
    fields = (fractal(rng, n, 3) > 0.45) & (x < 190)
    field_id = (x // 40).astype(int) + 7 * (y // 35).astype(int)
    cover[fields & (field_id % 3 == 0)] = COVERS.index("crop")
    cover[fields & (field_id % 3 == 1)] = COVERS.index("soil")
    cover[x > 215] = COVERS.index("forest")
    town = (x - 60) ** 2 / 45**2 + (y - 60) ** 2 / 35**2 < 1
    cover[town] = COVERS.index("urban")
    cover[dist < 6] = COVERS.index("water")
    after = cover.copy()
    events: dict[str, np.ndarray] = {}
    # Flood: the low floodplain near the river (south half), following the terrain.
    events["flood"] = (dist >= 6) & (dist < 38 + 10 * fractal(rng, n, 2)) & (y > 150) & (x < 205)
    after[events["flood"]] = COVERS.index("water")
    # Burn scar: an irregular fire front in the northern forest and grass.
    blob = fractal(rng, n, 4)
    events["burn"] = ((x - 250) ** 2 / 40**2 + (y - 70) ** 2 / 55**2 < 1 + 0.8 * (blob - 0.5)) & (cover != 0)
    after[events["burn"]] = COVERS.index("burn")
    # New buildings: a few compact blocks next to the town.
    build = np.zeros((n, n), bool)
    for r0, c0, h, w in ((110, 40, 8, 12), (112, 60, 10, 8), (125, 45, 7, 9), (100, 100, 9, 14), (125, 95, 6, 6)):
        build[r0 : r0 + h, c0 : c0 + w] = True
    events["buildings"] = build
    after[build] = COVERS.index("urban")
    # Landslide: an elongated downslope scar on the steep forested hillside.
    along = (x - 262) / 28.0
    across = (y - 215) / 7.0
    events["landslide"] = along**2 + across**2 < 1
    after[events["landslide"]] = COVERS.index("soil")
    cloud = (x - 70) ** 2 + (y - 250) ** 2 < 14**2
    return Scene(cover, after, dem.astype(np.float32), cloud, events)


def optical(scene: Scene, cover: np.ndarray, seed: int, gain: float, cloud: np.ndarray | None) -> np.ndarray:
    """S2-like bands (reflectance x 10000, uint16) with texture, illumination gain and noise."""
    rng = np.random.default_rng(seed)
    table = np.array([SPECTRA[c] for c in COVERS])
    texture = 0.85 + 0.3 * fractal(np.random.default_rng(99), SIZE_PX)  # the ground's texture is the same each date
    bands = table[cover].transpose(2, 0, 1) * texture[None] * gain
    bands += rng.normal(0, 0.004, bands.shape)
    if cloud is not None:
        cloud_refl = np.array(SPECTRA["cloud"])[:, None]
        bands[:, cloud] = 0.3 * bands[:, cloud] + 0.7 * cloud_refl
    return np.clip(bands * 10000, 1, 65535).astype(np.uint16)


def radar(cover: np.ndarray, seed: int) -> np.ndarray:
    """VV and VH in dB with gamma speckle (4.4 looks)."""
    rng = np.random.default_rng(seed)
    db = np.array([BACKSCATTER[c] for c in COVERS])[cover].transpose(2, 0, 1)
    power = 10 ** (db / 10) * rng.gamma(4.4, 1 / 4.4, db.shape)
    return (10 * np.log10(power)).astype(np.float32)


def scl(scene: Scene) -> np.ndarray:
    """Sentinel-2 scene classification of the after date (4 vegetation, 5 bare, 6 water, 9 cloud)."""
    codes = np.array([6, 4, 4, 4, 5, 5, 5], np.uint16)[scene.after]
    codes[scene.cloud] = 9
    return codes


def write(path: Path, bands: np.ndarray, names: tuple[str, ...] | list[str], nodata: float | None = None) -> str:
    """A tiled GeoTIFF with the scene's CRS, geotransform and band descriptions."""
    data = bands if bands.ndim == 3 else bands[None]
    types = {np.dtype("uint16"): gdal.GDT_UInt16, np.dtype("float32"): gdal.GDT_Float32}
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), data.shape[2], data.shape[1], data.shape[0], types[data.dtype], ["COMPRESS=DEFLATE", "TILED=YES"]
    )
    ds.SetGeoTransform((ORIGIN[0], PIXEL_M, 0.0, ORIGIN[1], 0.0, -PIXEL_M))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    for i, name in enumerate(names, start=1):
        band = ds.GetRasterBand(i)
        band.WriteArray(data[i - 1])
        band.SetDescription(name)
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
    return str(path)


def generate(folder: Path, seed: int = 7) -> dict[str, str]:
    """Write every input of the demo into ``folder``; returns their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = make_scene(seed)
    before = optical(scene, scene.before, seed + 1, 1.0, None)
    after = np.concatenate([optical(scene, scene.after, seed + 2, 1.06, scene.cloud), scl(scene)[None]])
    paths = {
        "s2_before": write(folder / "s2_before.tif", before, S2_BANDS),
        "s2_after": write(folder / "s2_after.tif", after, (*S2_BANDS, "SCL")),
        "s1_before": write(folder / "s1_before.tif", radar(scene.before, seed + 3), ("VV", "VH")),
        "s1_after": write(folder / "s1_after.tif", radar(scene.after, seed + 4), ("VV", "VH")),
        "dem": write(folder / "dem.tif", scene.dem, ("elevation (m)",)),
    }
    truth = np.zeros((SIZE_PX, SIZE_PX), np.uint16)
    for value, key in enumerate(("flood", "burn", "buildings", "landslide"), start=1):
        truth[scene.events[key]] = value
    paths["truth"] = write(folder / "truth_events.tif", truth, ("1 flood, 2 burn, 3 buildings, 4 landslide",))
    return paths
