"""Seeded landslide simulator: real Sentinel-2 backgrounds, generated or real terrain, new landslides.

A landslide strips vegetation to bare soil or rock on a steep slope (source >= ``SOURCE_SLOPE_DEG``)
in an elongated shape that follows the steepest descent: a narrow scar that widens into a runout
fan and stops where the ground flattens. Negatives that must not be mapped: ploughed or harvested
fields on gentle ground, clouds, haze and shadows, a different sun position on the two dates
(terrain shading), season and illumination gains, and sub-pixel co-registration jitter.
Numpy only, so the eval harness (no torch) builds its held-out scenes with the same code.
Reflectance 0..1 in ``simulate.OPTICAL_BANDS`` order; slope in degrees (Horn, as GDAL computes it).
"""

from __future__ import annotations

import numpy as np
import simulate as sim

PIXEL_M = 10.0
SOURCE_SLOPE_DEG = (18.0, 30.0)  # a landslide starts where the slope is steeper than this (drawn per scene)
LENGTH_PX = (8, 60)  # 80-600 m along the path
SCAR_HALF_WIDTH_PX = (1.5, 6.0)
RUNOUT_WIDENING = (1.0, 2.2)
VEGETATED_NDVI = 0.3  # sources and labels need vegetation before: bare ground cannot be stripped
LABEL_NDVI = 0.2
MIN_VISIBLE_NDVI_DROP = 0.1  # footprint pixels whose cover barely changed are ignored, not scored
# Bare soil / fresh rock reflectance (B02 B03 B04 B08 B11 B12).
SOIL = ((0.06, 0.12), (0.08, 0.15), (0.10, 0.20), (0.17, 0.30), (0.25, 0.40), (0.18, 0.32))
ROCK = ((0.10, 0.18), (0.12, 0.20), (0.14, 0.24), (0.18, 0.30), (0.22, 0.35), (0.16, 0.28))
FIELD_MAX_SLOPE_DEG = 8.0


def horn_slope_deg(dem: np.ndarray, pixel_m: float = PIXEL_M) -> np.ndarray:
    """Slope in degrees with Horn's 3x3 gradient (GDAL's default), edges by replication."""
    z = np.pad(dem.astype(np.float64), 1, mode="edge")
    dzdx = ((z[:-2, 2:] + 2 * z[1:-1, 2:] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[1:-1, :-2] + z[2:, :-2])) / (8 * pixel_m)
    dzdy = ((z[2:, :-2] + 2 * z[2:, 1:-1] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[:-2, 1:-1] + z[:-2, 2:])) / (8 * pixel_m)
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy))).astype(np.float32)


def terrain_dem(rng: np.random.Generator, h: int, w: int, pixel_m: float = PIXEL_M) -> np.ndarray:
    """A generated DEM (metres): fractal hills plus ridges, with flat valley floors in part of the scene."""
    fractal = sum(
        (0.55**k) * sim.smooth_field(rng, h, w, s) for k, s in enumerate(rng.uniform(25, 60) / 2 ** np.arange(4))
    )
    ridged = 1.0 - np.abs(sim.smooth_field(rng, h, w, rng.uniform(12, 35), rng.uniform(1, 3), rng.uniform(0, np.pi)))
    relief = fractal + rng.uniform(0.5, 2.0) * ridged
    mountains = np.clip((sim.smooth_field(rng, h, w, rng.uniform(20, 50)) + rng.uniform(-0.3, 1.5)) / 0.8, 0, 1)
    relief = relief * mountains**1.5
    unit = np.percentile(horn_slope_deg(relief, pixel_m), 90)
    target = rng.uniform(20.0, 45.0)  # 90th percentile of the slope, degrees
    scale = np.tan(np.radians(target)) / max(np.tan(np.radians(unit)), 1e-6)
    return (500.0 + relief * scale).astype(np.float32)


def hillshade(dem: np.ndarray, azimuth_deg: float, elevation_deg: float, pixel_m: float = PIXEL_M) -> np.ndarray:
    """Cosine of the sun's incidence angle on the terrain, relative to flat ground (1 = as flat)."""
    gy, gx = np.gradient(dem.astype(np.float64), pixel_m)
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    sun = np.array([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)])
    normal = np.stack([-gx, gy, np.ones_like(gx)])  # x east, y north (rows run south)
    normal /= np.linalg.norm(normal, axis=0)
    cos_i = np.tensordot(sun, normal, 1)
    return np.clip(cos_i / np.sin(el), 0.05, 2.0).astype(np.float32)


def _downslope_path(
    rng: np.random.Generator, dem: np.ndarray, slope: np.ndarray, y: float, x: float, length: int
) -> list[tuple[float, float]]:
    """Points from the source down the smoothed steepest descent, stopping on flat ground or the edge."""
    h, w = dem.shape
    gy, gx = np.gradient(sim.blur(dem.astype(np.float64), 2.0))
    path = [(y, x)]
    flat_run = 0
    for _ in range(length):
        iy, ix = int(round(y)), int(round(x))
        dy, dx = -gy[iy, ix], -gx[iy, ix]
        norm = np.hypot(dy, dx)
        if norm < 1e-6:
            break
        wobble = rng.normal(0, 0.15, 2)
        y, x = y + dy / norm + wobble[0], x + dx / norm + wobble[1]
        if not (0 <= y < h - 0.5 and 0 <= x < w - 0.5):
            break
        flat_run = flat_run + 1 if slope[int(round(y)), int(round(x))] < 6.0 else 0
        if flat_run > max(3, length // 6):  # the runout stops soon after the ground flattens
            break
        path.append((y, x))
    return path


def _shape(h: int, w: int, path: list[tuple[float, float]], r0: float, widening: float) -> np.ndarray:
    """Union of discs along ``path``, radius growing from the scar (``r0``) to the runout fan."""
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    n = len(path)
    for i, (py, px) in enumerate(path):
        t = i / max(n - 1, 1)
        r = r0 * (0.6 + 0.4 * min(1.0, 4 * t)) * (1 + (widening - 1) * t**1.5)
        y0, y1 = max(int(py - r - 1), 0), min(int(py + r + 2), h)
        x0, x1 = max(int(px - r - 1), 0), min(int(px + r + 2), w)
        mask[y0:y1, x0:x1] |= (yy[y0:y1, x0:x1] - py) ** 2 + (xx[y0:y1, x0:x1] - px) ** 2 <= r * r
    return mask


def _bare(rng: np.random.Generator, table: tuple[tuple[float, float], ...], h: int, w: int) -> np.ndarray:
    target = np.array([rng.uniform(*r) for r in table], np.float32)[:, None, None]
    return target * (1 + 0.08 * sim.smooth_field(rng, h, w, rng.uniform(1, 4)))[None]


def add_landslides(
    rng: np.random.Generator, img: np.ndarray, dem: np.ndarray, slope: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(after image, landslide footprint, bare fraction) with ``count`` landslides (fewer if no steep vegetation)."""
    _, h, w = img.shape
    veg = sim.ndvi(img) > VEGETATED_NDVI
    source_slope = rng.uniform(*SOURCE_SLOPE_DEG)
    candidates = np.argwhere(veg & (slope >= source_slope))
    footprint = np.zeros((h, w), bool)
    mix = np.zeros((h, w), np.float32)
    out = img.copy()
    for _ in range(count if len(candidates) else 0):
        y, x = candidates[rng.integers(len(candidates))]
        path = _downslope_path(rng, dem, slope, float(y), float(x), int(rng.integers(*LENGTH_PX)))
        if len(path) < 4:
            continue
        shape = _shape(h, w, path, rng.uniform(*SCAR_HALF_WIDTH_PX), rng.uniform(*RUNOUT_WIDENING))
        rough = sim.blur(shape.astype(np.float64), 0.8) + 0.15 * sim.smooth_field(rng, h, w, 1.5)
        shape = rough > 0.5
        if not shape.any():
            continue
        # Fresh scar: mostly bare (0.7-1); runout deposits keep some broken vegetation.
        strength = rng.uniform(0.55, 1.0) * np.clip(sim.blur(shape.astype(np.float64), 0.7), 0, 1)
        bare = _bare(rng, ROCK if rng.random() < 0.35 else SOIL, h, w)
        m = np.maximum(mix, strength.astype(np.float32))
        out = np.where(shape[None], (1 - strength[None]) * out + strength[None] * bare, out)
        footprint |= shape
        mix = m
    return out.astype(np.float32), footprint, mix


def add_fields(rng: np.random.Generator, img: np.ndarray, slope: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Negatives: harvested or ploughed fields (compact rectangles) on gentle vegetated ground."""
    _, h, w = img.shape
    fields = sim.rect_mask(rng, h, w, int(rng.integers(1, 8)), (5, 30))
    fields &= (sim.blur(slope.astype(np.float64), 2.0) < FIELD_MAX_SLOPE_DEG) & ~exclude
    fields &= sim.ndvi(img) > VEGETATED_NDVI
    bare = _bare(rng, SOIL, h, w)
    mix = rng.uniform(0.6, 1.0)
    return np.where(fields[None], (1 - mix) * img + mix * bare, img).astype(np.float32)


def _date(rng: np.random.Generator, img: np.ndarray, dem: np.ndarray, strength: float) -> np.ndarray:
    """One acquisition: its own sun position over the terrain, then the shared date nuisances."""
    shade = hillshade(dem, rng.uniform(100, 260), rng.uniform(20, 65))
    k = rng.uniform(0.0, 0.5)
    lit = img * (1 - k + k * shade)[None]
    return sim.date_nuisance(rng, lit, strength)


def simulate_landslide(
    rng: np.random.Generator, back: np.ndarray, dem: np.ndarray, count: int | None = None, strength: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """x = [t1 6 bands, t2 6 bands, slope_deg] (13, H, W) and the label (1 landslide, 0 not, 255 ignore).

    ``back`` is a real single-date background (6, H, W); ``dem`` its terrain (metres, 10 m pixels).
    Footprint pixels that were not vegetated before (nothing to strip), or whose NDVI barely dropped,
    are ignored (255): no method can see them.
    """
    slope = horn_slope_deg(dem)
    clean = np.clip(np.nan_to_num(back), 0.0, 1.5).astype(np.float32)
    n = count if count is not None else (0 if rng.random() < 0.15 else int(rng.integers(1, 9)))
    after, footprint, mix = add_landslides(rng, clean, dem, slope, n)
    if rng.random() < 0.6:
        after = add_fields(rng, after, slope, sim.blur(footprint.astype(np.float64), 3) > 0.05)
    t1 = _date(rng, clean, dem, rng.uniform(0.3, 1.0) * strength)
    t2 = _date(rng, after, dem, rng.uniform(0.3, 1.0) * strength)
    if rng.random() < 0.5:
        t1 = sim.shift(t1, rng, 1.0)  # co-registration jitter (the label follows the after image)
    label = np.zeros(slope.shape, np.uint8)
    label[footprint] = 255
    visible = sim.ndvi(clean) - sim.ndvi(after) >= MIN_VISIBLE_NDVI_DROP
    label[footprint & (sim.ndvi(clean) > LABEL_NDVI) & (mix > 0.3) & visible] = 1
    x = np.concatenate([np.clip(t1, 0, 1.5), np.clip(t2, 0, 1.5), slope[None]]).astype(np.float32)
    return x, label


# --- held-out scenes: backgrounds never trained on, fixed seeds -------------------------------------

HELDOUT_CITIES = ("aguasclaras", "pisa", "rennes")  # OSCD cities (first dates) kept out of training
HELDOUT_EOLEARN = 4  # eo-learn scene (date) kept out of training; its area and DEM are shared
SCENE_PX = 256
SCENES_PER_CITY = 3


def heldout_scenes(
    city_backs: dict[str, np.ndarray], eolearn_back: np.ndarray, eolearn_dem: np.ndarray
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, x (13, H, W), label, dem) of the deterministic held-out set.

    ``city_backs``: first-date backgrounds of :data:`HELDOUT_CITIES`; ``eolearn_*``: scene
    :data:`HELDOUT_EOLEARN` and the eo-learn DEM. Generated terrain for the cities, the real DEM
    for eo-learn; every scene has its own seed, distinct from any training seed (those are < 1000).
    """
    out = []
    for c, city in enumerate(HELDOUT_CITIES):
        back = np.nan_to_num(city_backs[city])
        for k in range(SCENES_PER_CITY):
            rng = np.random.default_rng(10_000 + 100 * c + k)
            crop = _crop(rng, back, SCENE_PX)
            dem = terrain_dem(rng, SCENE_PX, SCENE_PX)
            x, label = simulate_landslide(rng, crop, dem, count=int(rng.integers(4, 14)))
            out.append((f"{city}_{k}", x, label, dem))
    for k, exaggeration in enumerate((1.0, 2.0)):
        rng = np.random.default_rng(20_000 + k)
        dem = (eolearn_dem - eolearn_dem.min()) * exaggeration + 500.0
        x, label = simulate_landslide(rng, np.nan_to_num(eolearn_back), dem.astype(np.float32), count=3)
        out.append((f"eolearn{HELDOUT_EOLEARN}_{k}", x, label, dem.astype(np.float32)))
    return out


def _crop(rng: np.random.Generator, img: np.ndarray, p: int) -> np.ndarray:
    h, w = img.shape[-2:]
    if h < p or w < p:
        img = np.pad(img, ((0, 0), (0, max(0, p - h)), (0, max(0, p - w))), mode="reflect")
        h, w = img.shape[-2:]
    y, x = rng.integers(0, h - p + 1), rng.integers(0, w - p + 1)
    return img[:, y : y + p, x : x + p]
