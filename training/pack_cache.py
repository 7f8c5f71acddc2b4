"""Write a compact copy of the training caches for a GPU machine (its working tree is capped at 64 MiB).

OSCD reflectance is stored as uint8 on a square-root scale (refl = 0.8 * (v / 255)^2: steps of
0.001-0.004 reflectance, below the training noise); ``data.load_oscd`` decodes it. The SAR chip and
the eo-learn scenes are copied unchanged. Usage: python training/pack_cache.py OUT_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted((HERE / "cache").glob("oscd_*.npz")):
        z = np.load(f)
        packed = {
            k: np.round(np.sqrt(np.clip(np.nan_to_num(z[k]), 0, 0.8) / 0.8) * 255).astype(np.uint8)
            for k in ("t1", "t2")
        }
        np.savez_compressed(out / f.name, label=z["label"], **packed)
    for name in ("eolearn.npz", "s1f11_Spain_7370579.npz"):
        shutil.copy(HERE / "cache" / name, out / name)


if __name__ == "__main__":
    main()
