"""Acceptance on real flood chips (skips without ../shared/data): Sen1Floods11 through Processing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from eval.datasets import discover  # noqa: E402
from eval.methods import METHODS  # noqa: E402


@pytest.mark.parametrize(("method", "minimum_iou"), [("sar_flood", 0.60), ("optical_flood", 0.60)])
def test_sen1floods11_default_settings(shared_data, provider, tmp_path, method, minimum_iou) -> None:  # noqa: ANN001
    from eval.run import run_method

    dataset = next((d for d in discover(shared_data / "flood") if d.kind == "s1s2_chips"), None)
    if dataset is None:
        pytest.skip("no Sen1Floods11 chips")
    row = run_method(dataset, next(m for m in METHODS if m.name == method), tmp_path)
    assert "failed" not in row, row
    assert row["iou"] >= minimum_iou, row
