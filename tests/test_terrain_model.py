"""Models with a terrain channel: slope from a DEM appended after the two dates' bands.

The test model weighs every channel differently and blurs it with a 3x3 kernel, so the result
proves the channel order (before, after, slope) and that tiles are stitched without seams.
"""

from __future__ import annotations

import os
import re

import numpy as np
import onnxruntime as ort
import pytest
from changelens.core.errors import InputError, ModelMetadataError
from changelens.core.models.inference import InferenceConfig, InferenceOutputs, run_model
from changelens.core.models.meta import document_to_props, parse_metadata
from onnx_models import base_metadata, terrain_model
from osgeo import gdal
from qgis.core import QgsProcessingException
from qgis_process_runner import run_algorithm
from rasters import read, write_raster

RUN = "changelens:runmodel"
RNG = np.random.default_rng(11)
ROWS, COLS = 70, 90


def _metadata(**changes: object) -> dict:
    return base_metadata(**{"layout": "concat", "bands": ["B04"], "terrain": ["slope_deg"], **changes})


def _scene(tmp_path):  # noqa: ANN001, ANN202
    """Before/after images and a DEM (a bowl with a ridge: slope varies everywhere) on one 10 m grid."""
    before = RNG.random((1, ROWS, COLS)).astype(np.float32)
    after = RNG.random((1, ROWS, COLS)).astype(np.float32)
    yy, xx = np.mgrid[0:ROWS, 0:COLS].astype(np.float32)
    dem = 0.08 * ((yy - 30) ** 2 + (xx - 40) ** 2) + 40 * np.sin(xx / 9.0)
    a = write_raster(tmp_path / "before.tif", before, descriptions=["B04"])
    b = write_raster(tmp_path / "after.tif", after, descriptions=["B04"])
    d = write_raster(tmp_path / "dem.tif", dem.astype(np.float32))
    return a, b, d, before[0], after[0]


def _whole_image(model: str, dem: str, before: np.ndarray, after: np.ndarray, tmp_path) -> np.ndarray:  # noqa: ANN001
    """The model run once on the whole image, slope from GDAL on the whole DEM (same grid)."""
    slope_path = str(tmp_path / "whole_slope.tif")
    gdal.DEMProcessing(slope_path, dem, "slope", options=gdal.DEMProcessingOptions(computeEdges=True))
    slope = gdal.Open(slope_path).ReadAsArray().astype(np.float32)
    x = np.stack([before, after, slope])[None]
    return ort.InferenceSession(model).run(None, {"x": x})[0][0, 0]


def test_terrain_metadata_is_validated() -> None:
    meta = parse_metadata(document_to_props(_metadata()), "m")
    assert meta.terrain == ("slope_deg",) and meta.input_channels == 3
    assert "terrain slope_deg" in meta.summary()
    for change, message in (
        ({"terrain": ["aspect"]}, "'terrain' lists unknown channel(s) aspect; ChangeLens computes slope_deg."),
        ({"terrain": "slope_deg"}, "'terrain' must be a list of terrain channels computed from a DEM"),
        ({"terrain": ["slope_deg", "slope_deg"]}, "'terrain' lists a channel twice"),
        ({"layout": "separate"}, "'terrain' channels need layout 'single' or 'concat' (got 'separate')."),
    ):
        with pytest.raises(ModelMetadataError, match=f"^Model 'm' metadata: {re.escape(message)}"):
            document_to_props(_metadata(**change), "m")


def test_slope_is_the_last_channel_and_tiles_have_no_seams(tmp_path) -> None:  # noqa: ANN001
    a, b, dem, before, after = _scene(tmp_path)
    model = terrain_model(tmp_path / "t.onnx", _metadata(tile_size_px=32, tile_overlap_px=16))
    outputs = InferenceOutputs(str(tmp_path / "c.tif"), str(tmp_path / "p.tif"))
    logs: list[str] = []
    product = run_model(model, [a, b], outputs, InferenceConfig(batch_size=3), log=logs.append, dem=dem)
    whole = _whole_image(model, dem, before, after, tmp_path)
    prob = read(outputs.probability)
    assert np.abs(prob - whole).max() < 1e-4
    assert (read(outputs.classes) == (whole > 0.5)).all()
    # Another channel order would give another result (the weights differ per channel).
    assert np.abs(whole - _whole_image(model, dem, after, before, tmp_path)).max() > 0.1
    assert ("dem", dem) in product.inputs
    assert any("terrain slope_deg" in line for line in logs)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".changelens-")]  # scratch slope removed


def test_dem_on_another_grid_and_crs(tmp_path) -> None:  # noqa: ANN001
    """A geographic DEM covering the images: slope computed in metres (UTM), then put on the image grid."""
    a, b, dem, before, after = _scene(tmp_path)
    geo = str(tmp_path / "dem_wgs84.tif")
    gdal.Warp(geo, dem, dstSRS="EPSG:4326", resampleAlg="bilinear")
    model = terrain_model(tmp_path / "t.onnx", _metadata(tile_size_px=32, tile_overlap_px=16))
    outputs = InferenceOutputs(str(tmp_path / "c.tif"), str(tmp_path / "p.tif"))
    run_model(model, [a, b], outputs, dem=geo)
    whole = _whole_image(model, dem, before, after, tmp_path)
    prob = read(outputs.probability)
    inner = (slice(5, ROWS - 5), slice(5, COLS - 5))
    assert np.nanmedian(np.abs(prob[inner] - whole[inner])) < 0.02  # resampled twice, same terrain


def test_missing_dem_fails_before_any_work(tmp_path) -> None:  # noqa: ANN001
    a, b, _dem, _before, _after = _scene(tmp_path)
    model = terrain_model(tmp_path / "t.onnx", _metadata())
    outputs = InferenceOutputs(str(tmp_path / "c.tif"))
    with pytest.raises(InputError) as err:
        run_model(model, [a, b], outputs)
    assert str(err.value) == (
        "Model 'test model' also takes terrain (slope_deg) computed from a DEM: pass a DEM (elevation in metres) "
        "that covers the images."
    )
    assert not os.path.exists(outputs.classes)


def test_graph_channels_count_the_terrain(tmp_path) -> None:  # noqa: ANN001
    a, b, dem, _before, _after = _scene(tmp_path)
    model = terrain_model(tmp_path / "t.onnx", base_metadata(layout="concat", bands=["B04"]))
    with pytest.raises(ModelMetadataError, match="takes 3 channels but its metadata gives 2"):
        run_model(model, [a, b], InferenceOutputs(str(tmp_path / "c.tif")), dem=dem)


def test_run_model_algorithm_takes_a_dem(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    a, b, dem, before, after = _scene(tmp_path)
    model = terrain_model(tmp_path / "t.onnx", _metadata(tile_size_px=32, tile_overlap_px=16))
    params = {"MODEL_FILE": model, "IMAGE": a, "AFTER": b, "THREADS": 1}
    out = processing.run(
        RUN, params | {"DEM": dem, "OUTPUT_CLASSES": str(tmp_path / "c.tif"), "OUTPUT_PROBABILITY": "TEMPORARY_OUTPUT"}
    )
    whole = _whole_image(model, dem, before, after, tmp_path)
    assert np.abs(read(out["OUTPUT_PROBABILITY"]) - whole).max() < 1e-4
    with pytest.raises(QgsProcessingException, match="also takes terrain .slope_deg. computed from a DEM: pass a DEM"):
        processing.run(RUN, params | {"OUTPUT_CLASSES": str(tmp_path / "none.tif")})
    assert not (tmp_path / "none.tif").exists()


def test_qgis_process_run_model_with_dem(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    from test_run_model_algorithm import _with_onnxruntime

    a, b, dem, before, after = _scene(tmp_path)
    model = terrain_model(tmp_path / "t.onnx", _metadata(tile_size_px=32, tile_overlap_px=16))
    params = {"MODEL_FILE": model, "IMAGE": a, "AFTER": b, "DEM": dem, "OUTPUT_CLASSES": tmp_path / "c.tif"}
    code, _payload, log = run_algorithm(_with_onnxruntime(qgis_process_env), RUN, params)
    assert code == 0, log
    whole = _whole_image(model, dem, before, after, tmp_path)
    assert (read(tmp_path / "c.tif") == (whole > 0.5)).all()
