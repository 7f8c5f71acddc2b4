"""Tiny ONNX models with analytically known outputs, built with onnx.helper, plus their metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
from changelens.core.models.meta import write_metadata
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]


def _save(graph: onnx.GraphProto, path: Path | str, metadata: dict[str, Any] | None) -> str:
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    onnx.checker.check_model(model)
    if metadata is not None:
        write_metadata(model, metadata)
    onnx.save(model, str(path))
    return str(path)


def _value(name: str, shape: Sequence[Any]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def base_metadata(**changes: Any) -> dict[str, Any]:
    """Metadata of a two-class 'probabilities' model on one image with bands B04, B08."""
    doc: dict[str, Any] = {
        "name": "test model",
        "task": "change_detection",
        "classes": [
            {"name": "no change", "color": "#000000", "background": True},
            {"name": "change", "color": "#ff0000"},
        ],
        "layout": "single",
        "bands": ["B04", "B08"],
        "tile_size_px": 32,
        "tile_overlap_px": 8,
        "output": {"kind": "probabilities", "activation": "none"},
        "version": "0.1",
        "license": "CC0",
    }
    doc.update(changes)
    return doc


def identity_model(
    path: Path | str,
    channels: int = 2,
    metadata: dict[str, Any] | None = None,
    tile: Any = None,
    bare: bool = False,
    batch: Any = None,
) -> str:
    """Output = input ``[N, C, H, W]`` (each band becomes one class score); ``bare``: no metadata."""
    shape = [batch, channels, tile, tile]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "identity", [_value("x", shape)], [_value("y", shape)]
    )
    return _save(graph, path, None if bare else base_metadata() if metadata is None else metadata)


def layout_model(path: Path | str, layout: str, metadata: dict[str, Any]) -> str:
    """Two dates of one band -> scores ``[before, after]`` for each input layout."""
    if layout == "concat":
        nodes = [helper.make_node("Identity", ["x"], ["y"])]
        inputs = [_value("x", [None, 2, None, None])]
    elif layout == "stacked":
        axes = numpy_helper.from_array(np.array([2], dtype=np.int64), "axes")
        nodes = [helper.make_node("Squeeze", ["x", "axes"], ["y"])]
        inputs = [_value("x", [None, 2, 1, None, None])]
        graph = helper.make_graph(nodes, layout, inputs, [_value("y", [None, 2, None, None])], [axes])
        return _save(graph, path, metadata)
    elif layout == "separate":
        nodes = [helper.make_node("Concat", ["before", "after"], ["y"], axis=1)]
        inputs = [_value("before", [None, 1, None, None]), _value("after", [None, 1, None, None])]
    else:
        raise ValueError(layout)
    graph = helper.make_graph(nodes, layout, inputs, [_value("y", [None, 2, None, None])])
    return _save(graph, path, metadata)


def difference_model(path: Path | str, metadata: dict[str, Any]) -> str:
    """Concat layout of one band: a single logit ``after - before`` (sigmoid gives the change probability)."""
    w = numpy_helper.from_array(np.array([[[[-1.0]], [[1.0]]]], dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])],
        "difference",
        [_value("x", [None, 2, None, None])],
        [_value("y", [None, 1, None, None])],
        [w],
    )
    return _save(graph, path, metadata)


KERNEL = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], dtype=np.float32) / 16.0


def conv_model(path: Path | str, metadata: dict[str, Any]) -> str:
    """One band in, two scores out: ``[1 - blur(x), blur(x)]`` with a fixed 3x3 kernel (zero padding)."""
    w = numpy_helper.from_array(np.stack([-KERNEL, KERNEL])[:, np.newaxis], "w")
    b = numpy_helper.from_array(np.array([1.0, 0.0], dtype=np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])],
        "blur",
        [_value("x", [None, 1, None, None])],
        [_value("y", [None, 2, None, None])],
        [w, b],
    )
    return _save(graph, path, metadata)


TERRAIN_WEIGHTS = np.array([-0.5, 1.0, 0.01], dtype=np.float32)  # before, after, slope (degrees)


def terrain_model(path: Path | str, metadata: dict[str, Any]) -> str:
    """Concat layout of one band plus slope: ``[before, after, slope_deg]`` -> one score per pixel,
    ``sum_k TERRAIN_WEIGHTS[k] * blur(channel k)`` (the 3x3 ``KERNEL``, zero padding): each channel has
    its own weight, so a swapped channel changes the result, and the blur needs neighbours across tiles."""
    w = numpy_helper.from_array((TERRAIN_WEIGHTS[:, None, None] * KERNEL)[np.newaxis], "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "terrain",
        [_value("x", [None, 3, None, None])],
        [_value("y", [None, 1, None, None])],
        [w],
    )
    return _save(graph, path, metadata)
