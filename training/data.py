"""Training samples per task: real patches from the caches plus simulated pairs.

Each sampler returns ``(x, y)`` numpy arrays: ``x`` (C, P, P) float32 with the two dates
concatenated on channels (or one date), ``y`` (P, P) uint8 with 255 = ignore.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable

import landslide_sim as ls
import numpy as np
import simulate as sim

CACHE = pathlib.Path(os.environ.get("CHANGELENS_TRAIN_CACHE", pathlib.Path(__file__).resolve().parent / "cache"))
OSCD_CITIES = (
    "abudhabi",
    "aguasclaras",
    "beihai",
    "bercy",
    "hongkong",
    "nantes",
    "paris",
    "pisa",
    "rennes",
    "saclay_e",
)
POSTONLY_EVENTS = (
    "APACHE_20240624",
    "CANAL_20240530",
    "CREEK_20240726",
    "GROVE_2_20240724",
    "LISA_20240616",
    "ROBLAR_20240907",
    "TULEDAD_20241006",
    "WATER_20240621",
)
BURN_EVENTS = (
    "1-12_20200824",
    "1-7_20200817",
    "10TH_20240624",
    "4-3_PUMA_20210624",
    "4-8_20200817",
    "CLEAR_20240626",
    "DOVE_20241019",
)
Sample = tuple[np.ndarray, np.ndarray]


def load_oscd(city: str) -> dict[str, np.ndarray]:
    z = np.load(CACHE / f"oscd_{city}.npz")
    out = {k: z[k] for k in ("t1", "t2", "label")}
    for k in ("t1", "t2"):
        if out[k].dtype == np.uint8:  # compact copy for a GPU machine (training/pack_cache.py)
            out[k] = (0.8 * (out[k].astype(np.float32) / 255.0) ** 2).astype(np.float32)
        out[k] = np.nan_to_num(out[k])
    return out


def load_burned(event: str, kind: str = "prepost") -> dict[str, np.ndarray]:
    z = np.load(CACHE / f"burned_{kind}_{event}.npz")
    return {k: z[k] for k in z.files}


def optical_backgrounds() -> list[np.ndarray]:
    """Real single-date S2 backgrounds (6 bands): OSCD first dates and the eo-learn scenes."""
    out = [load_oscd(c)["t1"] for c in OSCD_CITIES]
    out += list(np.load(CACHE / "eolearn.npz")["scenes"])
    return out


def crop(rng: np.random.Generator, arrays: list[np.ndarray], p: int) -> list[np.ndarray]:
    h, w = arrays[0].shape[-2:]
    pad_h, pad_w = max(0, p - h), max(0, p - w)
    if pad_h or pad_w:
        arrays = [np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, pad_h), (0, pad_w)], mode="reflect") for a in arrays]
        h, w = arrays[0].shape[-2:]
    y, x = rng.integers(0, h - p + 1), rng.integers(0, w - p + 1)
    return [a[..., y : y + p, x : x + p] for a in arrays]


def dihedral(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> Sample:
    k = rng.integers(4)
    x, y = np.rot90(x, k, (-2, -1)), np.rot90(y, k, (-2, -1))
    if rng.random() < 0.5:
        x, y = x[..., ::-1], y[..., ::-1]
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


# --- burned_s2: [pre B8, pre B12, post B8, post B12] reflectance -------------------------------


def burned_sampler(train_events: list[str], p: int, sim_frac: float) -> Callable[[np.random.Generator], Sample]:
    real = [load_burned(e) for e in train_events]
    backs = optical_backgrounds()

    def sample(rng: np.random.Generator) -> Sample:
        if not real or rng.random() < sim_frac:
            back = crop(rng, [backs[rng.integers(len(backs))]], p)[0]
            pre, post, y = sim.simulate_burn(rng, back)
            x = np.concatenate([pre[[sim.NIR, sim.SWIR2]], post[[sim.NIR, sim.SWIR2]]])
        else:
            ev = real[rng.integers(len(real))]
            pre, post, y = crop(rng, [ev["pre"], ev["post"], ev["label"]], p)
            gain = rng.uniform(0.8, 1.2, (2, 1, 1))
            pre = pre * gain * rng.uniform(0.88, 1.12, (2, 1, 1))
            post = post * gain * rng.uniform(0.88, 1.12, (2, 1, 1))
            if rng.random() < 0.3:
                post = sim.shift(np.nan_to_num(post), rng, 1.0)
            x = np.concatenate([pre, post])
            x = x + rng.normal(0, 0.003, x.shape)
            y = y.copy()
            y[~np.isfinite(x).all(0)] = 255
        return dihedral(rng, np.nan_to_num(x).astype(np.float32), y)

    return sample


def burned_post_sampler(train_events: list[str], p: int, sim_frac: float) -> Callable[[np.random.Generator], Sample]:
    """Post-fire image only: [B8, B12] reflectance of the post image; prepost and postonly fires."""
    real = [load_burned(e, "postonly" if e in POSTONLY_EVENTS else "prepost") for e in train_events]
    backs = optical_backgrounds()

    def sample(rng: np.random.Generator) -> Sample:
        if not real or rng.random() < sim_frac:
            back = crop(rng, [backs[rng.integers(len(backs))]], p)[0]
            _, post, y = sim.simulate_burn(rng, back)
            x = post[[sim.NIR, sim.SWIR2]]
        else:
            ev = real[rng.integers(len(real))]
            x, y = crop(rng, [ev["post"], ev["label"]], p)
            x = x * rng.uniform(0.8, 1.2, (2, 1, 1)) + rng.normal(0, 0.003, x.shape)
            y = y.copy()
            y[~np.isfinite(x).all(0)] = 255
        return dihedral(rng, np.nan_to_num(x).astype(np.float32), y)

    return sample


# --- flood_s1: one polarisation, before/after (or after only), any radiometric form ------------


S1F11_TRAIN_COLS = 256  # Sen1Floods11 chip: columns [0, 256) train, [256, 512) are held out for scoring


def flood_sampler(
    p: int, after_only: bool, real_frac: float = 0.0, sim_kw: dict | None = None
) -> Callable[[np.random.Generator], Sample]:
    """``sim_kw``: keyword arguments of ``simulate.simulate_flood`` (the recipe's simulation settings)."""
    backs = optical_backgrounds() + [load_oscd(c)["t2"] for c in OSCD_CITIES]
    chip = np.load(CACHE / "s1f11_Spain_7370579.npz")
    chip_s1, chip_label = chip["s1"][:, :, :S1F11_TRAIN_COLS], chip["label"][:, :S1F11_TRAIN_COLS]

    def sample(rng: np.random.Generator) -> Sample:
        if after_only and rng.random() < real_frac:
            # Real Sen1Floods11 (left half only), VV or VH, as dB or as a stretched 8-bit image.
            band = rng.integers(2)
            db, y = crop(rng, [chip_s1[band], chip_label], p)
            db = np.nan_to_num(db, nan=float(np.nanmedian(db)))
            kind = str(rng.choice(("db", "db8")))
            if kind == "db8":
                lo, hi = np.quantile(db, [rng.uniform(0, 0.02), rng.uniform(0.98, 1.0)])
                db = np.round(np.clip((db - lo) / (hi - lo + 1e-9), 0, 1) * 255)
            return dihedral(rng, db[None].astype(np.float32), y.copy())
        back = crop(rng, [backs[rng.integers(len(backs))]], p)[0]
        before, after, flood, water = sim.simulate_flood(rng, back, **(sim_kw or {}))
        if after_only:
            return dihedral(rng, after[None], water)
        # 0 dry, 1 water before and after (permanent), 2 new water (flooded).
        y = np.where(flood == 1, 2, np.where(water == 1, 1, 0)).astype(np.uint8)
        return dihedral(rng, np.stack([before, after]), y)

    return sample


# Sen1Floods11 hand-labelled chips (CC-BY-4.0) by flood event: the groups of leave-one-event-out validation.
S1F11_EVENTS = {
    "Ghana": ("Ghana_53713", "Ghana_97059"),
    "India": ("India_900498",),
    "Mekong": ("Mekong_333434",),
    "Pakistan": ("Pakistan_849790",),
    "Somalia": ("Somalia_699062",),
    "Spain": ("Spain_6860600", "Spain_7370579"),
}


def s1f11_sampler(train_events: list[str], p: int, real_frac: float, sim_kw: dict | None = None) -> Callable:
    """After-image water: whole Sen1Floods11 chips of ``train_events`` (VV or VH, dB or stretched 8-bit, both
    dry chips and wet ones) for ``real_frac`` of the samples, ``simulate.simulate_flood`` for the rest."""
    chips = [np.load(CACHE / f"s1f11_{c}.npz") for e in train_events for c in S1F11_EVENTS[e]]
    chips = [(z["s1"], z["label"]) for z in chips]
    simulated = flood_sampler(p, after_only=True, real_frac=0.0, sim_kw=sim_kw)

    def sample(rng: np.random.Generator) -> Sample:
        if not chips or rng.random() >= real_frac:
            return simulated(rng)
        s1, label = chips[rng.integers(len(chips))]
        for _ in range(10):  # prefer a crop with labelled pixels (Ghana_97059 is 90 % no data)
            db, y = crop(rng, [s1[rng.integers(2)], label], p)
            if (y != 255).mean() > 0.3:
                break
        y = np.where(np.isfinite(db), y, 255).astype(np.uint8)
        db = np.nan_to_num(db, nan=float(np.nanmedian(db)) if np.isfinite(db).any() else -10.0)
        if rng.random() < 0.5:
            lo, hi = np.quantile(db, [rng.uniform(0, 0.02), rng.uniform(0.98, 1.0)])
            db = np.round(np.clip((db - lo) / (hi - lo + 1e-9), 0, 1) * 255)
        return dihedral(rng, db[None].astype(np.float32), y.copy())

    return sample


# --- change_s2: OSCD 6 bands, two dates ---------------------------------------------------------


def blocky_20m(rng: np.random.Generator, dates: list[np.ndarray], bands: tuple[int, ...] = (4, 5)) -> list[np.ndarray]:
    """20 m bands as most users' 10 m stacks hold them: 2x2 block means repeated (nearest), at a random phase."""
    oy, ox = rng.integers(2), rng.integers(2)
    out = []
    for d in dates:
        d = d.copy()
        part = d[list(bands), oy:, ox:]
        h, w = (part.shape[1] // 2) * 2, (part.shape[2] // 2) * 2
        means = part[:, :h, :w].reshape(len(bands), h // 2, 2, w // 2, 2).mean((2, 4))
        part[:, :h, :w] = np.repeat(np.repeat(means, 2, 1), 2, 2)
        d[list(bands), oy:, ox:] = part
        out.append(d)
    return out


def change_sampler(
    train_cities: list[str], p: int, sim_frac: float, blocky_20m_p: float = 0.0
) -> Callable[[np.random.Generator], Sample]:
    """``blocky_20m_p``: share of samples whose B11/B12 are nearest-upsampled 20 m pixels (see blocky_20m)."""
    real = [load_oscd(c) for c in train_cities]
    weights = np.array([max(1, int((r["label"] == 1).sum())) for r in real], float)
    weights = weights / weights.sum()
    backs = optical_backgrounds()

    def sample(rng: np.random.Generator) -> Sample:
        if rng.random() < sim_frac:
            back = crop(rng, [backs[rng.integers(len(backs))]], p)[0]
            t1, t2, y = simulate_builtup(rng, back)
        else:
            c = real[rng.choice(len(real), p=weights)]
            # Bias crops toward change pixels (1-4 % of OSCD).
            for _ in range(5):
                t1, t2, y = crop(rng, [c["t1"], c["t2"], c["label"]], p)
                if (y == 1).any() or rng.random() < 0.3:
                    break
            # Shared gain and an additive path-radiance term (L1C vs L2A) falling from blue to SWIR.
            gain = rng.uniform(0.85, 1.15, (6, 1, 1))
            haze = rng.uniform(-0.03, 0.03) * np.array([1.0, 0.8, 0.6, 0.3, 0.1, 0.05])[:, None, None]
            t1 = t1 * gain * rng.uniform(0.93, 1.07, (6, 1, 1)) + haze
            t2 = t2 * gain * rng.uniform(0.93, 1.07, (6, 1, 1)) + haze
            if rng.random() < 0.5:
                t1, t2 = (t2, t1) if rng.random() < 0.2 else (t1, t2)
        if rng.random() < blocky_20m_p:
            t1, t2 = blocky_20m(rng, [t1, t2])
        x = np.concatenate([t1, t2]) + rng.normal(0, 0.003, (12, p, p))
        return dihedral(rng, x.astype(np.float32), y.copy())

    return sample


def simulate_builtup(rng: np.random.Generator, back: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New built-up / construction: compact rectangles turn bright in visible/SWIR, NIR lower."""
    _, h, w = back.shape
    t1 = sim.date_nuisance(rng, back, 0.3)
    t2 = sim.date_nuisance(rng, back, rng.uniform(0.3, 1.0))
    y = np.zeros((h, w), np.uint8)
    if rng.random() < 0.8:
        m = sim.rect_mask(rng, h, w, rng.integers(1, 12), (2, 12))
        target = np.array(
            [
                rng.uniform(0.08, 0.2),
                rng.uniform(0.08, 0.2),
                rng.uniform(0.08, 0.22),
                rng.uniform(0.1, 0.25),
                rng.uniform(0.15, 0.35),
                rng.uniform(0.12, 0.3),
            ],
            np.float32,
        )
        mix = rng.uniform(0.5, 1.0)
        t2 = np.where(m[None], (1 - mix) * t2 + mix * target[:, None, None] * rng.uniform(0.9, 1.1, (6, h, w)), t2)
        y = m.astype(np.uint8)
    t2 = sim.shift(t2, rng, 1.0) if rng.random() < 0.5 else t2
    return t1, t2.astype(np.float32), y


# --- landslide_s2: [t1 6 bands, t2 6 bands, slope_deg], simulation only ---------------------------

LANDSLIDE_GROUPS = OSCD_CITIES + tuple(f"eolearn_{i}" for i in range(5))


def landslide_sampler(train_groups: list[str], p: int) -> Callable[[np.random.Generator], Sample]:
    """Simulated landslides: OSCD first dates on generated terrain, eo-learn scenes on their real DEM."""
    cities = [load_oscd(g)["t1"] for g in train_groups if not g.startswith("eolearn_")]
    eo = np.load(CACHE / "eolearn.npz")
    scenes = [eo["scenes"][int(g.split("_")[1])] for g in train_groups if g.startswith("eolearn_")]
    eo_dem = eo["dem"].astype(np.float32)

    def sample(rng: np.random.Generator) -> Sample:
        if scenes and rng.random() < 0.35:
            back = scenes[rng.integers(len(scenes))]
            if rng.random() < 0.7:  # the real DEM, relief exaggerated up to 2.5x (steeper than Slovenia's hills)
                dem = (eo_dem - eo_dem.min()) * rng.uniform(1.0, 2.5) + 500.0
                back, dem = crop(rng, [back, dem[None]], p)
                dem = dem[0]
            else:
                back = crop(rng, [back], p)[0]
                dem = ls.terrain_dem(rng, p, p)
        else:
            back = crop(rng, [cities[rng.integers(len(cities))]], p)[0]
            dem = ls.terrain_dem(rng, p, p)
        x, y = ls.simulate_landslide(rng, back, dem.astype(np.float32))
        return dihedral(rng, x, y)

    return sample
