"""Index-method baselines on the same cases the models are scored on (numpy only)."""

from __future__ import annotations

import numpy as np


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu threshold of finite ``values``."""
    v = values[np.isfinite(values)]
    hist, edges = np.histogram(v, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centres[int(np.argmax(between))])


def to_db(x: np.ndarray, is_8bit: bool) -> np.ndarray:
    """8-bit stretched images are used as they are (already log-like); others are dB already."""
    return x.astype(np.float64)


def log_ratio_otsu(before_db: np.ndarray, after_db: np.ndarray) -> np.ndarray:
    """Flood = backscatter drop: log-ratio (after - before in dB) below its Otsu threshold."""
    d = after_db - before_db
    return d < min(otsu(d), 0.0)


def dark_water_otsu(after_db: np.ndarray) -> np.ndarray:
    """Open water from one image: backscatter below its Otsu threshold."""
    return after_db < otsu(after_db)


def dnbr(pre: np.ndarray, post: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """pre/post [NIR, SWIR2] reflectance -> dNBR > threshold."""

    def nbr(a: np.ndarray) -> np.ndarray:
        return (a[0] - a[1]) / (a[0] + a[1] + 1e-9)

    return (nbr(pre) - nbr(post)) > threshold


def cva_otsu(t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    """Change vector magnitude over bands (each standardised on date 1), Otsu threshold."""
    c = t1.shape[0]
    s = t1.reshape(c, -1).std(1)[:, None, None] + 1e-6
    mag = np.sqrt((((t2 - t1) / s) ** 2).sum(0))
    return mag > otsu(mag)


def counts(pred: np.ndarray, label: np.ndarray) -> np.ndarray:
    v = label != 255
    t = label == 1
    return np.array([(pred & t & v).sum(), (pred & ~t & v).sum(), (~pred & t & v).sum()], np.int64)


def f1(c: np.ndarray) -> float:
    return float(2 * c[0] / max(1, 2 * c[0] + c[1] + c[2]))


def iou(c: np.ndarray) -> float:
    return float(c[0] / max(1, c[0] + c[1] + c[2]))
