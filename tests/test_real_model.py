"""Real Sentinel-2 fires: an ONNX dNBR model through the tiled runtime equals the core dNBR method."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime  # noqa: F401 - the real package, imported before anything can shadow it
import pytest
from changelens.core.methods.burn import BurnSeverity, BurnSeverityConfig
from changelens.core.methods.declaration import RunRequest
from changelens.core.models.inference import InferenceConfig, InferenceOutputs, run_model
from changelens.core.models.meta import write_metadata
from changelens.core.pipeline import run_method
from onnx import TensorProto, helper, numpy_helper
from rasters import read


def _dnbr_model(path: str) -> str:
    """Concat layout of (B08, B12): one logit = NBR(before) - NBR(after), with ONNX arithmetic."""
    nodes, inits = [], []
    for i in range(4):
        inits.append(numpy_helper.from_array(np.array([i], np.int64), f"i{i}"))
        nodes.append(helper.make_node("Gather", ["x", f"i{i}"], [f"c{i}"], axis=1))
    for date, (nir, swir) in (("pre", ("c0", "c1")), ("post", ("c2", "c3"))):
        nodes += [
            helper.make_node("Sub", [nir, swir], [f"{date}_num"]),
            helper.make_node("Add", [nir, swir], [f"{date}_den"]),
            helper.make_node("Div", [f"{date}_num", f"{date}_den"], [f"{date}_nbr"]),
        ]
    nodes.append(helper.make_node("Sub", ["pre_nbr", "post_nbr"], ["dnbr"]))
    graph = helper.make_graph(
        nodes,
        "dnbr",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4, None, None])],
        [helper.make_tensor_value_info("dnbr", TensorProto.FLOAT, [None, 1, None, None])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    write_metadata(
        model,
        {
            "name": "dNBR as a model",
            "task": "burned_area",
            "classes": [{"name": "unburned", "background": True}, {"name": "burned", "color": "#e31a1c"}],
            "layout": "concat",
            "bands": ["B08", "B12"],
            "values": "reflectance",
            "tile_size_px": 64,
            "tile_overlap_px": 16,
            "output": {"kind": "logits", "activation": "sigmoid"},
            "threshold": float(1 / (1 + np.exp(-0.1))),
        },
    )
    onnx.save(model, path)
    return path


def test_onnx_dnbr_equals_core_dnbr_on_real_fires(shared_data, tmp_path) -> None:  # noqa: ANN001
    events = sorted(p for p in (shared_data / "burned" / "prepost").iterdir() if (p / "pre.tif").exists())
    if not events:
        pytest.skip("no pre/post fire events")
    model = _dnbr_model(str(tmp_path / "dnbr.onnx"))
    for event in events:
        pre, post = str(event / "pre.tif"), str(event / "post.tif")
        name = event.name
        outputs = {"dnbr": str(tmp_path / f"{name}_dnbr.tif")}
        config = BurnSeverityConfig(radiometry="s2_dn")  # reflectance x 10000, no offset (data README)
        run_method(BurnSeverity(), RunRequest({"before": pre, "after": post}, config, outputs))
        product = run_model(
            model,
            [pre, post],
            InferenceOutputs(str(tmp_path / f"{name}_c.tif"), str(tmp_path / f"{name}_p.tif")),
            InferenceConfig(batch_size=3, radiometry="s2_dn"),
        )
        expected = read(tmp_path / f"{name}_dnbr.tif")
        prob = read(product.measure_raster).astype(np.float64)
        assert prob.shape == expected.shape, name
        assert (np.isnan(prob) == np.isnan(expected)).all(), name
        ok = np.isfinite(expected)
        got = np.log(prob[ok] / (1 - prob[ok]))  # back from sigmoid to dNBR
        assert np.abs(got - expected[ok]).max() < 1e-3, name
        classes = read(product.class_raster)
        burned = expected[ok] >= 0.1
        assert (classes[ok] == burned).mean() > 0.999, name
