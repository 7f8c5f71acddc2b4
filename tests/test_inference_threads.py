"""Streamed inference on its reader and writer threads: a failure on either thread, or a cancel, keeps no
output and leaves no thread behind; the threads raise GDAL errors as exceptions."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from changelens.core.errors import CancelledError
from changelens.core.models import streaming
from changelens.core.models.inference import InferenceConfig, InferenceOutputs, run_model
from onnx_models import base_metadata, conv_model
from osgeo import gdal
from rasters import read, write_raster


def _setup(tmp_path):  # noqa: ANN001, ANN202
    img = np.random.default_rng(3).random((1, 150, 130)).astype(np.float32)
    raster = write_raster(tmp_path / "img.tif", img, descriptions=["B04"])
    model = conv_model(tmp_path / "conv.onnx", base_metadata(bands=["B04"], tile_size_px=32, tile_overlap_px=8))
    outputs = InferenceOutputs(str(tmp_path / "out" / "c.tif"), str(tmp_path / "out" / "p.tif"))
    (tmp_path / "out").mkdir()
    return raster, model, outputs


def _helpers_left() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in ("changelens-tile-reader", "changelens-tile-writer")]


@pytest.mark.parametrize("where", ["read_tile", "write_piece"])
def test_a_failure_on_a_helper_thread_keeps_no_output(tmp_path, monkeypatch, where) -> None:  # noqa: ANN001
    raster, model, outputs = _setup(tmp_path)
    real = getattr(streaming, where)
    calls = []

    def failing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(threading.current_thread().name)
        if len(calls) == 5:
            raise RuntimeError(f"{where} broke")
        return real(*args, **kwargs)

    monkeypatch.setattr(streaming, where, failing)
    with pytest.raises(RuntimeError, match=f"{where} broke"):
        run_model(model, [raster], outputs, InferenceConfig(batch_size=2))
    assert calls and all(name.startswith("changelens-tile-") for name in calls)
    assert os.listdir(tmp_path / "out") == []
    assert _helpers_left() == []


def test_cancel_stops_every_thread_and_keeps_no_output(tmp_path) -> None:  # noqa: ANN001
    raster, model, outputs = _setup(tmp_path)
    seen: list[float] = []
    with pytest.raises(CancelledError):
        run_model(model, [raster], outputs, InferenceConfig(batch_size=1), progress=lambda f: len(seen) < 4
                  and not seen.append(f))  # fmt: skip
    assert os.listdir(tmp_path / "out") == []
    assert _helpers_left() == []


def test_helper_threads_raise_gdal_errors(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    raster, model, outputs = _setup(tmp_path)
    flags: list[int] = []
    real = streaming.read_tile

    def checking(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        flags.append(gdal.GetUseExceptions())
        return real(*args, **kwargs)

    monkeypatch.setattr(streaming, "read_tile", checking)
    product = run_model(model, [raster], outputs, InferenceConfig(batch_size=3))
    assert flags and all(flags)
    assert read(product.class_raster).shape == (150, 130)
    assert _helpers_left() == []
