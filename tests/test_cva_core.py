"""Change vector normalisation and relative radiometric normalisation on paired samples."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.methods.change_vector import change_vector
from changelens.core.methods.cva import CvaConfig, fit_model


def _samples(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s1 = rng.gamma(4.0, 250.0, (3, 5000))  # three bands of a varied scene
    s2 = 1.3 * s1 + 50.0 + rng.normal(0, 5, s1.shape)  # another illumination, same ground
    changed = np.zeros(5000, bool)
    changed[:500] = True
    s2[:, changed] += 800.0
    return s1, s2, changed


def test_radiometric_normalisation_puts_unchanged_pixels_on_date_1() -> None:
    s1, s2, changed = _samples()
    model = fit_model(s1, s2, CvaConfig(normalisation="reference", radiometric_normalisation=True))
    z1, z2 = model.apply(s1[:, :, None], s2[:, :, None])
    magnitude, _ = change_vector(z1, z2)
    assert np.median(magnitude[~changed]) < 0.1
    assert np.median(magnitude[changed]) > 1.5
    assert "gains" in model.notes[0]
    # Without it, the illumination change swamps the real change.
    plain = fit_model(s1, s2, CvaConfig(normalisation="reference"))
    m_plain, _ = change_vector(*plain.apply(s1[:, :, None], s2[:, :, None]))
    assert np.median(m_plain[~changed]) > 1.0


def test_direction_for_two_bands() -> None:
    d1 = np.zeros((2, 1, 4), np.float32)
    d2 = np.array([[[1, 0, -1, 0]], [[0, 1, 0, -1]]], np.float32)
    magnitude, direction = change_vector(d1, d2)
    assert magnitude.ravel() == pytest.approx([1, 1, 1, 1])
    assert direction.ravel() == pytest.approx([0, 90, 180, 270])
    assert change_vector(np.zeros((3, 1, 1)), np.ones((3, 1, 1)))[1] is None


def test_vhr_defaults_by_pixel_size_replace_only_the_standard_defaults() -> None:
    from changelens.core.methods.cva import resolve_config, vhr_defaults

    assert vhr_defaults(10.0) == {} and vhr_defaults(30.0) == {}
    assert vhr_defaults(0.5) == {"threshold_method": "otsu", "smooth_px": 7} == vhr_defaults(None)  # None: no CRS
    resolved, why = resolve_config(CvaConfig(), 0.5)
    assert (resolved.threshold_method, resolved.smooth_px) == ("otsu", 7) and "0.5 m pixels" in why
    assert resolve_config(CvaConfig(), 10.0) == (CvaConfig(), "")
    own = CvaConfig(threshold_method="user", smooth_px=5)  # a user's own choices always win
    assert resolve_config(own, 0.5) == (own, "")
    off = CvaConfig(pixel_size_defaults=False)
    assert resolve_config(off, 0.5) == (off, "")
    partly, _ = resolve_config(CvaConfig(smooth_px=1), 0.5)
    assert (partly.threshold_method, partly.smooth_px) == ("otsu", 1)
