"""Check a model's graph against its metadata, and turn tiles into model inputs and outputs into probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelMetadataError
from .meta import ModelMeta

_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}


@dataclass(frozen=True)
class GraphIO:
    """The model inputs ChangeLens feeds and the output it reads."""

    inputs: tuple[str, ...]
    input_dtype: Any
    output: str
    max_batch: int | None = None


def _dims(shape: Any) -> list[Any]:
    return list(shape) if shape is not None else []


def input_channels(session: Any, layout_hint: str | None = None) -> int | None:
    """Channels per image read from the first input's static shape (None when dynamic)."""
    first = session.get_inputs()[0]
    dims = _dims(first.shape)
    axis = 2 if (layout_hint == "stacked" or len(dims) == 5) else 1
    value = dims[axis] if len(dims) > axis else None
    return value if isinstance(value, int) and value > 0 else None


def check_graph(meta: ModelMeta, session: Any, label: str) -> GraphIO:
    """Raise :class:`ModelMetadataError` where the graph cannot take what the metadata describes."""
    inputs = {i.name: i for i in session.get_inputs()}
    wanted = 2 if meta.layout == "separate" else 1
    names = list(meta.input_names) or [i.name for i in session.get_inputs()][:wanted]
    if len(names) < wanted:
        raise ModelMetadataError(
            f"Model '{label}' has {len(inputs)} input(s) but layout '{meta.layout}' needs {wanted}; "
            "fix 'layout' in its metadata."
        )
    for name in names:
        if name not in inputs:
            raise ModelMetadataError(
                f"Model '{label}' has no input named '{name}' (its inputs: {', '.join(inputs)}); fix 'input_names'."
            )
    rank = 5 if meta.layout == "stacked" else 4
    channels = meta.input_channels
    for name in names:
        dims = _dims(inputs[name].shape)
        if dims and len(dims) != rank:
            raise ModelMetadataError(
                f"Model '{label}' input '{name}' has {len(dims)} dimensions but layout '{meta.layout}' feeds {rank}; "
                "fix 'layout' in its metadata."
            )
        if dims and meta.layout == "stacked" and isinstance(dims[1], int) and dims[1] != 2:
            raise ModelMetadataError(f"Model '{label}' input '{name}' must have 2 dates on axis 1 (has {dims[1]}).")
        axis = rank - 3
        terrain = f" + {len(meta.terrain)} terrain channel(s)" if meta.terrain else ""
        if dims and isinstance(dims[axis], int) and dims[axis] != channels:
            raise ModelMetadataError(
                f"Model '{label}' input '{name}' takes {dims[axis]} channels but its metadata gives {channels} "
                f"({meta.channels_per_date} band(s) x layout '{meta.layout}'{terrain}); fix 'bands' or 'layout'."
            )
        for side in dims[-2:] if dims else []:
            if isinstance(side, int) and side != meta.tile_size_px:
                raise ModelMetadataError(
                    f"Model '{label}' only takes {side} x {side} pixel tiles, not {meta.tile_size_px}; "
                    f"use a tile size of {side}."
                )
    dtype = _NUMPY_TYPES.get(inputs[names[0]].type)
    if dtype is None:
        raise ModelMetadataError(f"Model '{label}' input type {inputs[names[0]].type} is not supported (use float).")
    outputs = [o.name for o in session.get_outputs()]
    output = meta.output_name or outputs[0]
    if output not in outputs:
        raise ModelMetadataError(f"Model '{label}' has no output named '{output}' (its outputs: {', '.join(outputs)}).")
    batch_dims = [_dims(inputs[n].shape)[0] for n in names if _dims(inputs[n].shape)]
    fixed = [d for d in batch_dims if isinstance(d, int) and d > 0]
    return GraphIO(tuple(names), dtype, output, min(fixed) if fixed else None)


def _pad_batch(batch: np.ndarray, size: int | None) -> np.ndarray:
    if size is None or batch.shape[0] >= size:
        return batch
    pad = np.zeros((size - batch.shape[0], *batch.shape[1:]), dtype=batch.dtype)
    return np.concatenate([batch, pad])


def feed(meta: ModelMeta, io: GraphIO, batch: np.ndarray, terrain: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Model inputs for a batch shaped ``[n, dates, bands, tile, tile]`` in the metadata's layout.

    ``terrain`` (``[n, terrain channels, tile, tile]``) is appended after the images' channels
    (layouts ``single`` and ``concat``). A model exported with a fixed batch size gets exactly
    that many tiles (zero tiles pad the last batch).
    """
    batch = _pad_batch(batch, io.max_batch)
    n, dates, bands, h, w = batch.shape
    data = batch.astype(io.input_dtype, copy=False)
    if meta.layout == "stacked":
        return {io.inputs[0]: np.ascontiguousarray(data)}
    if meta.layout == "separate":
        return {io.inputs[0]: np.ascontiguousarray(data[:, 0]), io.inputs[1]: np.ascontiguousarray(data[:, 1])}
    data = data.reshape(n, dates * bands, h, w)
    if meta.terrain:
        if terrain is None:
            raise ModelMetadataError(f"Model '{meta.name}' takes terrain channels but none were read.")
        data = np.concatenate([data, _pad_batch(terrain, io.max_batch).astype(io.input_dtype, copy=False)], axis=1)
    return {io.inputs[0]: np.ascontiguousarray(data)}


def probabilities(meta: ModelMeta, raw: np.ndarray, label: str, tile_px: int) -> np.ndarray:
    """Class probabilities ``[n, classes, tile, tile]`` (float32) from the model's raw output of the
    same shape (logits through softmax or sigmoid, or probabilities as they are).
    """
    out = np.asarray(raw, dtype=np.float32)
    if out.ndim == 3:
        out = out[:, np.newaxis]
    if out.ndim != 4 or out.shape[-2:] != (tile_px, tile_px):
        raise ModelMetadataError(
            f"Model '{label}' returned an output of shape {tuple(out.shape)}; ChangeLens needs "
            f"[batch, classes, {tile_px}, {tile_px}] (one score per class and pixel)."
        )
    channels = out.shape[1]
    if channels == 1:
        if meta.class_count != 2:
            raise ModelMetadataError(
                f"Model '{label}' returns one channel but its metadata lists {meta.class_count} classes; "
                "a single-channel output needs exactly 2 classes."
            )
        p = 1.0 / (1.0 + np.exp(-out)) if meta.activation != "none" else out
        return np.concatenate([1.0 - p, p], axis=1).astype(np.float32, copy=False)
    if channels != meta.class_count:
        raise ModelMetadataError(
            f"Model '{label}' returns {channels} channels but its metadata lists {meta.class_count} classes; "
            "fix 'classes'."
        )
    if meta.activation == "softmax":
        out = out - out.max(axis=1, keepdims=True)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
    elif meta.activation == "sigmoid":
        out = 1.0 / (1.0 + np.exp(-out))
    return out
