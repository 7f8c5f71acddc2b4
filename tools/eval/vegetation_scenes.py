"""Vegetation-loss cases built from real Sentinel-2 imagery for `make eval` (no labelled clear-cut set is shared).

Backgrounds: the five real Sentinel-2 L1C scenes of the eo-learn Slovenia example (one 1 x 1 km
area, 10 m; ``s2_background/eolearn_slovenia``). Each case pairs two of its summer dates, so every
difference between them outside the cuts is real (phenology, illumination, sensor noise) and must
not be mapped. Clear-cuts are made on the after date: seeded compact patches inside the land-cover
map's forest (class 2) are replaced, pixel by pixel, by real Sentinel-2 spectra of open ground
(bare soil, tracks, bare fields: NDVI < 0.25, not water, not cloud) from the first dates of four
OSCD scenes (Nantes, Rennes, Pisa, Saclay; the summer Slovenian scenes have no open ground),
mixed 70-100 % with the canopy they replace, with a one-pixel blended rim. The label is 1 inside
the cuts, 0 elsewhere, 255 (ignored) on the rim. The bands are those of the simulated landslide
set (B02 B03 B04 B08 B11 B12, UInt16 DN). The vegetation-loss defaults were set before these cases
existed and were not tuned on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal

from .datasets import Case, Dataset
from .landslide_scenes import BANDS, _city_back, _write

KIND = "vegetation_loss_real"
PATH = "constructed/vegetation_loss_eolearn"
ORDER = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
FOREST = 2
DONOR_CITIES = ("nantes", "rennes", "pisa", "saclay_e")
# (before date, after date, seed): summer dates 2, 3 and 4 of the eo-learn scenes.
PAIRS = ((2, 4, 11), (3, 4, 12), (2, 3, 13))


def _open_ground(root: Path) -> np.ndarray:
    """Real open-ground spectra (pixels x BANDS reflectance) from the first dates of the donor cities."""
    spectra = []
    for city in DONOR_CITIES:
        stack = _city_back(root / "oscd" / city).reshape(len(BANDS), -1).T  # pixels x bands
        blue, green, red, nir = (stack[:, BANDS.index(b)] for b in ("B02", "B03", "B04", "B08"))
        with np.errstate(invalid="ignore", divide="ignore"):
            ndvi, ndwi = (nir - red) / (nir + red), (green - nir) / (green + nir)
        keep = np.isfinite(stack).all(1) & (ndvi < 0.25) & (ndwi < 0) & (blue < 0.15)
        spectra.append(stack[keep])
    return np.concatenate(spectra)


def _cuts(lulc: np.ndarray, rng: np.random.Generator, count: int = 4) -> np.ndarray:
    """Mixing weight (0..1) of seeded elliptic clear-cuts inside the forest."""
    rows, cols = lulc.shape
    yy, xx = np.mgrid[0:rows, 0:cols]
    weight = np.zeros((rows, cols), np.float32)
    forest = np.argwhere(lulc == FOREST)
    for _ in range(count):
        cy, cx = forest[rng.integers(len(forest))]
        ry, rx = rng.uniform(4, 9), rng.uniform(4, 9)
        r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
        weight = np.maximum(weight, np.clip((1.5 - r) * 2.0, 0, 1))  # flat core, one-pixel rim
    weight[lulc != FOREST] = 0
    return weight


def vegetation_dataset(data_root: str | Path, folder: Path) -> Dataset | None:
    """Write the constructed cases into ``folder``; None when the eo-learn scenes are absent."""
    root = Path(data_root)
    eo = root / "s2_background" / "eolearn_slovenia"
    if not (eo / "REFERENCE_SCENES.npy").is_file() or not all((root / "oscd" / c).is_dir() for c in DONOR_CITIES):
        return None
    all_bands = np.load(eo / "REFERENCE_SCENES.npy").astype(np.float32)  # (5, rows, cols, 13) reflectance
    scenes = all_bands[..., [ORDER.index(b) for b in BANDS]]
    lulc = np.load(eo / "LULC.npy")[..., 0]
    ground = _open_ground(root)
    cases = []
    for before_date, after_date, seed in PAIRS:
        rng = np.random.default_rng(seed)
        before, after = scenes[before_date], scenes[after_date].copy()
        weight = _cuts(lulc, rng)
        donors = ground[rng.integers(len(ground), size=weight.size)].reshape(after.shape)
        mix = (weight * rng.uniform(0.7, 1.0, weight.shape))[..., None]
        after = (1 - mix) * after + mix * donors
        label = np.where(weight >= 0.99, 1, np.where(weight > 0, 255, 0)).astype(np.uint8)
        name = f"dates{before_date}{after_date}_seed{seed}"
        case_dir = folder / name
        case_dir.mkdir(parents=True, exist_ok=True)
        inputs = {}
        for key, scene in (("before", before), ("after", after)):
            dn = np.clip(np.round(np.transpose(scene, (2, 0, 1)) * 10000.0), 1, 65535).astype(np.uint16)
            inputs[key] = _write(case_dir / f"{key}.tif", dn, gdal.GDT_UInt16, BANDS)
        label_path = _write(case_dir / "label.tif", label, gdal.GDT_Byte)
        cases.append(Case(name, inputs, label_path, (1,), (255,)))
    return Dataset(PATH, KIND, cases)
