"""Seeded change simulator: real backgrounds plus physically plausible change and nuisance.

Every function takes a ``numpy.random.Generator`` so a training run is reproducible from its seed.
Optical stacks are reflectance (0..1) in the band order ``OPTICAL_BANDS``; SAR is in dB.
Parameter ranges are recorded here once and copied into the model cards.
"""

from __future__ import annotations

import numpy as np

OPTICAL_BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
BLUE, GREEN, RED, NIR, SWIR1, SWIR2 = range(6)

# Burn: multiplicative change of the post image inside the burn, scaled by local severity.
BURN_NIR_FACTOR = (0.45, 0.9)
BURN_SWIR2_FACTOR = (0.95, 1.6)
BURN_VIS_FACTOR = (0.7, 1.0)
# Nuisance between dates: per-band gain (illumination / season / sensor), haze, shift.
DATE_GAIN = (0.78, 1.25)
HAZE_REFLECTANCE = (0.0, 0.08)
# SAR: dB levels, equivalent number of looks.
SAR_LAND_VV_DB = (-13.0, -6.0)
SAR_WATER_VV_DB = (-25.0, -17.0)
SAR_LOOKS = (3.5, 5.5)


def smooth_field(
    rng: np.random.Generator, h: int, w: int, scale_px: float, aniso: float = 1.0, angle: float = 0.0
) -> np.ndarray:
    """Gaussian random field (zero mean, unit std) with correlation length ``scale_px``."""
    noise = rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    c, s = np.cos(angle), np.sin(angle)
    u = c * fx + s * fy
    v = -s * fx + c * fy
    g = np.exp(-2 * (np.pi * scale_px) ** 2 * (u**2 * aniso**2 + v**2 / aniso**2))
    f = np.real(np.fft.ifft2(np.fft.fft2(noise) * g))
    return (f - f.mean()) / (f.std() + 1e-9)


def blur(x: np.ndarray, scale_px: float) -> np.ndarray:
    """Gaussian blur of a 2-D array (periodic borders, fine for soft edges)."""
    h, w = x.shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    g = np.exp(-2 * (np.pi * scale_px) ** 2 * (fx**2 + fy**2))
    return np.real(np.fft.ifft2(np.fft.fft2(x) * g))


def blob_mask(
    rng: np.random.Generator, h: int, w: int, frac: float, scale_px: float, aniso: float = 1.0, angle: float = 0.0
) -> np.ndarray:
    """Irregular regions covering about ``frac`` of the area (fire fronts, flood plains)."""
    f = smooth_field(rng, h, w, scale_px, aniso, angle) + 0.3 * smooth_field(rng, h, w, scale_px / 4)
    return f > np.quantile(f, 1 - frac)


def rect_mask(rng: np.random.Generator, h: int, w: int, n: int, size_px: tuple[int, int]) -> np.ndarray:
    """Compact rectangles (buildings, fields, construction sites)."""
    m = np.zeros((h, w), bool)
    for _ in range(n):
        rh, rw = rng.integers(size_px[0], size_px[1] + 1, 2)
        y, x = rng.integers(0, max(1, h - rh)), rng.integers(0, max(1, w - rw))
        m[y : y + rh, x : x + rw] = True
    return m


def ndvi(img: np.ndarray) -> np.ndarray:
    return (img[NIR] - img[RED]) / (img[NIR] + img[RED] + 1e-6)


def date_nuisance(rng: np.random.Generator, img: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Illumination/season gain per band, smooth spatial gain, haze, thin cloud, shadow, noise."""
    c, h, w = img.shape
    out = img * rng.uniform(*DATE_GAIN, size=(c, 1, 1)) ** strength
    out = out * (1 + 0.05 * strength * smooth_field(rng, h, w, rng.uniform(20, 80)))[None]
    if rng.random() < 0.3 * strength:
        haze = rng.uniform(*HAZE_REFLECTANCE) * np.clip(smooth_field(rng, h, w, 30) + 1, 0, 3)
        out = out + haze[None] * np.linspace(1.0, 0.3, c)[:, None, None]
    if rng.random() < 0.15 * strength:
        cloud = np.clip(smooth_field(rng, h, w, rng.uniform(5, 20)) - rng.uniform(0.8, 1.8), 0, None)
        cloud = np.clip(cloud * rng.uniform(0.3, 1.0), 0, 0.9)
        out = out * (1 - cloud[None]) + cloud[None] * rng.uniform(0.3, 0.6)
    if rng.random() < 0.15 * strength:
        shadow = blob_mask(rng, h, w, rng.uniform(0.01, 0.08), rng.uniform(3, 10))
        out = np.where(shadow[None], out * rng.uniform(0.3, 0.7), out)
    out = out + rng.normal(0, 0.004, out.shape)
    return out.astype(np.float32)


def shift(img: np.ndarray, rng: np.random.Generator, max_px: float = 1.0) -> np.ndarray:
    """Sub-pixel co-registration jitter by bilinear interpolation (periodic borders)."""
    dy, dx = rng.uniform(-max_px, max_px, 2)
    iy, ix = int(np.floor(dy)), int(np.floor(dx))
    fy, fx = dy - iy, dx - ix

    def roll(a: np.ndarray, oy: int, ox: int) -> np.ndarray:
        return np.roll(np.roll(a, oy, axis=-2), ox, axis=-1)

    return (
        (1 - fy) * (1 - fx) * roll(img, iy, ix)
        + fy * (1 - fx) * roll(img, iy + 1, ix)
        + (1 - fy) * fx * roll(img, iy, ix + 1)
        + fy * fx * roll(img, iy + 1, ix + 1)
    ).astype(np.float32)


def simulate_burn(rng: np.random.Generator, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Burn scars on vegetated land. ``pre`` is (6, H, W); returns (pre, post, label)."""
    _, h, w = pre.shape
    post = date_nuisance(rng, pre, strength=rng.uniform(0.3, 1.0))
    pre_n = date_nuisance(rng, pre, strength=0.3)
    label = np.zeros((h, w), np.uint8)
    if rng.random() < 0.85:
        region = blob_mask(
            rng, h, w, rng.uniform(0.05, 0.5), rng.uniform(6, 30), rng.uniform(1, 2.5), rng.uniform(0, np.pi)
        )
        veg = ndvi(pre) > rng.uniform(0.1, 0.3)
        islands = blob_mask(rng, h, w, rng.uniform(0.0, 0.15), rng.uniform(2, 5))
        burnt = region & veg & ~islands
        sev = np.clip(0.6 + 0.4 * smooth_field(rng, h, w, rng.uniform(3, 10)), 0.15, 1.0)
        soft = np.clip(blur(burnt.astype(float), rng.uniform(0.5, 1.5)), 0, 1) * sev
        fn, fs = rng.uniform(*BURN_NIR_FACTOR), rng.uniform(*BURN_SWIR2_FACTOR)
        fv, f1 = rng.uniform(*BURN_VIS_FACTOR), rng.uniform(0.85, 1.3)
        factors = np.array([fv, fv, fv, fn, f1, fs], np.float32)[:, None, None]
        post = post * (1 + (factors - 1) * soft[None])
        # Label = perimeter: the region with islands inside (like CAL FIRE polygons).
        label = (region & (blur(burnt.astype(float), 3) > 0.2)).astype(np.uint8)
    if rng.random() < 0.3:
        # Negative: harvested / bare fields (NIR down, all SWIR and visible up) in compact shapes.
        fields = rect_mask(rng, h, w, rng.integers(1, 6), (5, 25)) & (label == 0)
        bare = np.array([1.3, 1.3, 1.4, 0.7, 1.4, 1.5], np.float32)[:, None, None]
        post = np.where(fields[None], post * bare, post)
    post = shift(post, rng, 1.0) if rng.random() < 0.5 else post
    return pre_n, post.astype(np.float32), label


def optical_to_sar_db(rng: np.random.Generator, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo VV backscatter (dB) from an optical background, and its permanent-water mask."""
    c, h, w = img.shape
    z = (img - img.reshape(c, -1).mean(1)[:, None, None]) / (img.reshape(c, -1).std(1)[:, None, None] + 1e-6)
    proj = np.tensordot(rng.standard_normal(c), z, 1)
    proj = (proj - proj.mean()) / (proj.std() + 1e-6)
    vv = rng.uniform(*SAR_LAND_VV_DB) + rng.uniform(1.0, 3.0) * proj + 1.0 * smooth_field(rng, h, w, rng.uniform(2, 15))
    bright = (img[SWIR1] > 0.2) & (ndvi(img) < 0.2)
    vv = np.where(bright & (rng.random() < 0.5), vv + rng.uniform(2, 6), vv)
    mndwi = (img[GREEN] - img[SWIR1]) / (img[GREEN] + img[SWIR1] + 1e-6)
    water = mndwi > 0.15
    return vv.astype(np.float32), water


def speckle_db(rng: np.random.Generator, db: np.ndarray, looks: float) -> np.ndarray:
    """Multiplicative gamma speckle (intensity, ``looks`` looks) applied in linear power, back to dB."""
    lin = 10 ** (db / 10) * rng.gamma(looks, 1.0 / looks, db.shape)
    return (10 * np.log10(np.maximum(lin, 1e-6))).astype(np.float32)


SAR_FORMS = ("db", "db8", "amp8", "lin")


def sar_render(rng: np.random.Generator, db: np.ndarray, kind: str) -> np.ndarray:
    """Turn a dB image into one of the forms users bring: dB, linear, amplitude, or stretched 8-bit."""
    h, w = db.shape
    db = db + np.linspace(-1, 1, w)[None, :] * rng.uniform(0, 2.5)  # incidence-angle trend
    db = speckle_db(rng, db, rng.uniform(*SAR_LOOKS))
    if rng.random() < 0.3:
        db = blur(db, rng.uniform(0.5, 1.5))  # speckle-filtered products
    if kind == "db":
        return db
    if kind == "lin":
        return (10 ** (db / 10)).astype(np.float32)
    x = db if kind == "db8" else 10 ** (db / 20)
    lo, hi = np.quantile(x, [rng.uniform(0, 0.02), rng.uniform(0.98, 1.0)])
    return np.round(np.clip((x - lo) / (hi - lo + 1e-9), 0, 1) * 255).astype(np.float32)


def simulate_flood(
    rng: np.random.Generator, img: np.ndarray, low_contrast_p: float = 0.3, max_flood_frac: float = 0.6
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(before, after, flood label, all-water-after label): single-polarisation SAR from optical.

    ``low_contrast_p``: share of scenes whose water is only 3-7 dB darker than land;
    ``max_flood_frac``: the largest share of the patch a flood may cover.
    """
    _, h, w = img.shape
    base, water = optical_to_sar_db(rng, img)
    if rng.random() < 0.5:
        base = base - rng.uniform(5, 9)  # cross-polarisation (VH) levels
        water_db = rng.uniform(-30, -23)
    else:
        water_db = rng.uniform(*SAR_WATER_VV_DB)
    if rng.random() < low_contrast_p:
        # Low-contrast water (wind, shallow water with emergent vegetation): only 3-7 dB darker.
        water_db = float(np.median(base)) - rng.uniform(3, 7)
    if rng.random() < 0.3:
        water = water | blob_mask(
            rng, h, w, rng.uniform(0.01, 0.1), rng.uniform(3, 12), rng.uniform(1, 4), rng.uniform(0, np.pi)
        )
    before = np.where(water, water_db + rng.normal(0, 1.0, (h, w)), base)
    flood = np.zeros((h, w), bool)
    if rng.random() < 0.85:
        near = blur(water.astype(float), rng.uniform(5, 20))
        f = smooth_field(rng, h, w, rng.uniform(6, 25), rng.uniform(1, 3), rng.uniform(0, np.pi)) + rng.uniform(
            0, 4
        ) * near / (near.max() + 1e-6)
        flood = (f > np.quantile(f, 1 - rng.uniform(0.03, max_flood_frac))) & ~water
    after_base = base + rng.normal(0, rng.uniform(0.2, 1.5)) + rng.uniform(0, 2) * smooth_field(rng, h, w, 20)
    after = np.where(water | flood, water_db + rng.uniform(-2, 3) + rng.normal(0, 1.0, (h, w)), after_base)
    if rng.random() < 0.2:
        # Negatives: wind-roughened permanent water, wet soil darkening by a few dB.
        after = np.where(water, after + rng.uniform(3, 8), after)
        wet = blob_mask(rng, h, w, rng.uniform(0.05, 0.3), 15) & ~flood
        after = np.where(wet, after - rng.uniform(1, 3), after)
    kind = str(rng.choice(SAR_FORMS, p=[0.35, 0.4, 0.15, 0.1]))  # both dates come in the same form
    return (
        sar_render(rng, before, kind),
        sar_render(rng, after, kind),
        flood.astype(np.uint8),
        (flood | water).astype(np.uint8),
    )
