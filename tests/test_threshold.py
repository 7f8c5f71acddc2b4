"""Automatic thresholds against distributions with a known optimum, and whole-raster sampling."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.engine.threshold import Sampler, kittler_illingworth, otsu
from changelens.core.errors import EmptyDataError


def _mixture(n0: int, m0: float, s0: float, n1: int, m1: float, s1: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(m0, s0, n0), rng.normal(m1, s1, n1)]).astype(np.float32)


def _bayes_threshold(p0: float, m0: float, s0: float, p1: float, m1: float, s1: float) -> float:
    """Where the two weighted Gaussian densities cross (between the means)."""
    xs = np.linspace(m0, m1, 200001)
    d0 = p0 / s0 * np.exp(-0.5 * ((xs - m0) / s0) ** 2)
    d1 = p1 / s1 * np.exp(-0.5 * ((xs - m1) / s1) ** 2)
    return float(xs[np.argmin(np.abs(np.log(d0) - np.log(d1)))])


def test_otsu_symmetric_mixture_is_midpoint() -> None:
    values = _mixture(50000, -20.0, 2.0, 50000, -8.0, 2.0)
    assert otsu(values) == pytest.approx(-14.0, abs=0.3)


def test_otsu_separated_classes_take_middle_of_gap() -> None:
    values = np.r_[np.full(3000, -0.4), np.full(1000, 0.6)].astype(np.float32)
    assert otsu(values) == pytest.approx(0.1, abs=0.02)


def test_kittler_illingworth_finds_minimum_error_for_unequal_classes() -> None:
    # 10 % water (narrow) vs 90 % land (wide): KI tracks the Bayes optimum better than Otsu.
    values = _mixture(10000, -22.0, 1.0, 90000, -10.0, 3.0, seed=1)
    optimum = _bayes_threshold(0.1, -22.0, 1.0, 0.9, -10.0, 3.0)
    assert kittler_illingworth(values) == pytest.approx(optimum, abs=0.5)
    assert abs(kittler_illingworth(values) - optimum) < abs(otsu(values) - optimum)


def test_constant_or_empty_input_gives_clear_error() -> None:
    with pytest.raises(EmptyDataError, match="no contrast"):
        otsu(np.full(100, 3.0, np.float32))
    with pytest.raises(EmptyDataError, match="too few valid"):
        kittler_illingworth(np.array([np.nan, np.nan], np.float32))


def test_sampler_covers_whole_raster_on_a_fixed_lattice() -> None:
    image = np.arange(100 * 60, dtype=np.float32).reshape(100, 60)
    sampler = Sampler(60, 100, max_values=600)
    step = sampler.step
    assert step == 4  # ceil(sqrt(6000 / 600))
    for row in range(0, 100, 7):  # odd block heights: the lattice must not depend on blocks
        sampler.add("x", image[row : row + 7], row_off=row)
    expected = image[::step, ::step].ravel()
    assert np.array_equal(np.sort(sampler.values("x")), np.sort(expected))
