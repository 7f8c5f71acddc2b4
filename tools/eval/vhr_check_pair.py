"""A very-high-resolution check pair that played no part in choosing the VHR change-vector defaults.

The VHR defaults (``core.cva.vhr_defaults``) were chosen on the 11 labelled LEVIR pairs. This script
builds one more pair from the 12th LEVIR sample, ``test_113_0256`` (it has no label, so it was never
scored): date 1 is its before image; date 2 is the same image with

- 14 new buildings: real roofs cut, with their label masks, from the *after* images of the labelled
  pairs (the new-building components of their labels) and pasted at seeded random places, edges
  feathered over 1 px;
- a different sun and sensor: per-band gain 0.88-1.12 and offset -12..12 DN, a smooth brightness ramp
  (+-6 %), a 0.5 px shift (bilinear) and sensor noise (sigma 3 DN).

The label is the pasted roofs. Then it scores the standard defaults, the VHR defaults and plain Otsu on
raw differences with ``core.cva.run_cva`` (the code the Processing algorithm runs)::

    /usr/bin/python3 tools/eval/vhr_check_pair.py --data ../shared/data [--out build/vhr_check]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from osgeo import gdal

ROOT = Path(__file__).resolve().parents[2]
BASE = "test_113_0256.png"
SEED = 15
BUILDINGS = 14


def _read(path: Path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray().astype(np.float64)


def _roofs(levir: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pixels 3 x h x w, mask h x w) of each new-building component of the labelled pairs' after images."""
    from scipy import ndimage

    out = []
    for label_path in sorted((levir / "label").glob("*.png")):
        label = _read(label_path)
        label = (label[0] if label.ndim == 3 else label) > 127
        after = _read(levir / "B" / label_path.name)[:3]
        comps, n = ndimage.label(label)
        for k, sl in enumerate(ndimage.find_objects(comps), start=1):
            mask = comps[sl] == k
            if 60 <= mask.sum() <= 1500:  # a house or a small block, not a fragment or a whole estate
                out.append((after[(slice(None), *sl)].copy(), mask))
    return out


def build_pair(levir: Path, folder: Path) -> tuple[str, str, np.ndarray]:
    """Write date1.tif and date2.tif (3 bands R, G, B, no CRS like the PNGs) and return them with the label."""
    from scipy import ndimage

    rng = np.random.default_rng(SEED)
    before = _read(levir / "A" / BASE)[:3]
    _, h, w = before.shape
    after = before.copy()
    label = np.zeros((h, w), bool)
    roofs = _roofs(levir)
    placed = 0
    for i in rng.permutation(len(roofs)):
        pixels, mask = roofs[i]
        rh, rw = mask.shape
        if rh >= h - 4 or rw >= w - 4:
            continue
        r, c = rng.integers(2, h - rh - 2), rng.integers(2, w - rw - 2)
        if label[r - 2 : r + rh + 2, c - 2 : c + rw + 2].any():
            continue
        soft = ndimage.uniform_filter(mask.astype(float), 3) * mask  # feathered edge
        region = after[:, r : r + rh, c : c + rw]
        after[:, r : r + rh, c : c + rw] = region * (1 - soft) + pixels * soft
        label[r : r + rh, c : c + rw] |= mask
        placed += 1
        if placed == BUILDINGS:
            break
    gain = rng.uniform(0.88, 1.12, 3)[:, None, None]
    offset = rng.uniform(-12, 12, 3)[:, None, None]
    ramp = 1 + 0.06 * np.linspace(-1, 1, w)[None, None, :] * rng.choice([-1, 1])
    after = ndimage.shift(after, (0, 0.5, 0.5), order=1, mode="nearest")
    after = np.clip(after * gain * ramp + offset + rng.normal(0, 3, after.shape), 0, 255)
    paths = []
    for name, image in (("date1.tif", before), ("date2.tif", after)):
        ds = gdal.GetDriverByName("GTiff").Create(str(folder / name), w, h, 3, gdal.GDT_Byte)
        for b in range(3):
            ds.GetRasterBand(b + 1).WriteArray(np.round(image[b]).astype(np.uint8))
            ds.GetRasterBand(b + 1).SetDescription("RGB"[b])
        ds = None
        paths.append(str(folder / name))
    return paths[0], paths[1], label


def score(date1: str, date2: str, label: np.ndarray, folder: Path) -> dict[str, dict[str, float]]:
    sys.path.insert(0, str(ROOT.parent))
    sys.path.insert(0, str(folder / "_pkg"))
    link = folder / "_pkg" / "changelens"
    link.parent.mkdir(exist_ok=True)
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    from changelens.core.cva import CvaConfig, CvaOutputs, run_cva

    settings = {
        "standard defaults (reference z-score, Kittler-Illingworth, 3 px median)": CvaConfig(pixel_size_defaults=False),
        "VHR defaults chosen by pixel size (vhr_defaults)": CvaConfig(),
        "plain Otsu on raw differences, no smoothing": CvaConfig(
            normalisation="none", threshold_method="otsu", smooth_px=1, pixel_size_defaults=False
        ),
    }
    out = {}
    for name, config in settings.items():
        path = str(folder / f"change_{len(out)}.tif")
        run_cva(date1, date2, CvaOutputs(classes=path), config)
        pred = gdal.Open(path).ReadAsArray() == 2
        tp, fp, fn = int((pred & label).sum()), int((pred & ~label).sum()), int((~pred & label).sum())
        out[name] = {
            "precision": round(tp / max(1, tp + fp), 3),
            "recall": round(tp / max(1, tp + fn), 3),
            "f1": round(2 * tp / max(1, 2 * tp + fp + fn), 3),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default="", help="keep the pair in this folder (default: a temporary one)")
    args = ap.parse_args()
    levir = Path(args.data) / "change_vhr" / "levir_samples"
    if not (levir / "A" / BASE).is_file():
        print(f"no LEVIR samples under {args.data}", file=sys.stderr)
        return 2
    folder = Path(args.out or tempfile.mkdtemp(prefix="vhr-check-"))
    folder.mkdir(parents=True, exist_ok=True)
    date1, date2, label = build_pair(levir, folder)
    print(f"pair in {folder}: {int(label.sum())} new-building pixels ({label.mean():.1%})")
    print(json.dumps(score(date1, date2, label, folder), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
