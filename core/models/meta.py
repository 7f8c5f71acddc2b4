"""The ChangeLens model metadata standard, stored as JSON values in an ONNX file's ``metadata_props``.

Every key of the document (see ``models/README.md``) is one ``metadata_props`` entry
whose value is JSON. :func:`parse_metadata` validates it into a :class:`ModelMeta`
with one clear sentence per problem; models exported for the Deepness plugin
(``model_type``, ``class_names``, ``resolution``, ...) load too (:mod:`deepness`). :func:`write_metadata`
puts a document into an ``onnx.ModelProto`` (training scripts) or an ``.onnx`` file.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any, Mapping

from ..errors import ModelMetadataError
from .deepness import parse_deepness
from .meta_fields import (
    band_name,
    canonical,
    choice,
    class_scheme,
    decode_props,
    fail,
    integer,
    number,
)
from .onnx_file import read_metadata_props, write_metadata_props
from .schema import (
    ACTIVATIONS,
    KNOWN_KEYS,
    LAYOUTS,
    NORMALIZATIONS,
    OUTPUT_KINDS,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    TASKS,
    TERRAIN_CHANNELS,
    TERRAIN_LAYOUTS,
    TWO_DATE_LAYOUTS,
    VALUES,
    BandPrep,
    ModelMeta,
)


def _prep(band: str, spec: Mapping[str, Any], label: str) -> BandPrep:
    unknown = set(spec) - {"scale", "offset", "db", "clip", "mean", "std"}
    if unknown:
        raise fail(label, f"band '{band}' has unknown preprocessing key(s) {', '.join(sorted(unknown))}.")
    clip = spec.get("clip")
    if clip is not None:
        if not isinstance(clip, list) or len(clip) != 2 or not all(isinstance(v, (int, float)) for v in clip):
            raise fail(label, f"band '{band}': 'clip' must be [low, high].")
        if not clip[0] < clip[1]:
            raise fail(label, f"band '{band}': 'clip' low must be below high (got {clip}).")
        clip = (float(clip[0]), float(clip[1]))
    db = spec.get("db", False)
    if not isinstance(db, bool):
        raise fail(label, f"band '{band}': 'db' must be true or false.")
    where = f"band '{band}': "
    scale = number(spec, "scale", label, 1.0, where=where)
    if scale == 0:
        raise fail(label, f"band '{band}': 'scale' must not be 0.")
    return BandPrep(
        band,
        float(scale),
        float(number(spec, "offset", label, 0.0, where=where)),
        db,
        clip,
        float(number(spec, "mean", label, 0.0, where=where)),
        float(number(spec, "std", label, 1.0, positive=True, where=where)),
    )


def _bands(doc: Mapping[str, Any], label: str) -> tuple[BandPrep, ...]:
    raw = doc.get("bands")
    if not isinstance(raw, list) or not raw:
        raise fail(label, '\'bands\' must list the bands each image provides, e.g. ["B04", "B08"].')
    names = [band_name(b, label) for b in raw]
    if len({canonical(n) for n in names}) != len(names):
        raise fail(label, f"'bands' lists a band twice ({', '.join(names)}).")
    prep = doc.get("preprocessing", {})
    if isinstance(prep, list):
        if len(prep) != len(names) or not all(isinstance(p, dict) for p in prep):
            raise fail(label, f"'preprocessing' as a list needs one object per band ({len(names)}).")
        return tuple(_prep(n, p, label) for n, p in zip(names, prep))
    if not isinstance(prep, dict):
        raise fail(label, "'preprocessing' must be an object keyed by band name (\"*\" = every band) or a list.")
    by_name = {canonical(str(k)): v for k, v in prep.items()}
    extra = set(by_name) - {canonical(n) for n in names} - {"*"}
    if extra:
        raise fail(label, f"'preprocessing' names band(s) not in 'bands': {', '.join(sorted(extra))}.")
    out = []
    for name in names:
        spec = dict(by_name.get("*", {}))
        spec.update(by_name.get(canonical(name), {}))
        out.append(_prep(name, spec, label))
    return tuple(out)


def _output(doc: Mapping[str, Any], label: str) -> tuple[str, str, str | None]:
    raw = doc.get("output", {})
    if not isinstance(raw, dict):
        raise fail(label, '\'output\' must be an object like {"kind": "logits", "activation": "softmax"}.')
    kind = choice(raw, "kind", label, OUTPUT_KINDS, "logits")
    activation = choice(raw, "activation", label, ACTIVATIONS, "softmax" if kind == "logits" else "none")
    if kind == "probabilities" and activation != "none":
        raise fail(label, "an output of kind 'probabilities' takes activation 'none'.")
    if kind == "logits" and activation == "none":
        raise fail(label, "an output of kind 'logits' needs activation 'softmax' or 'sigmoid'.")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise fail(label, "'output.name' must be the name of a model output.")
    return kind, activation, name


def _terrain(doc: Mapping[str, Any], label: str, layout: str) -> tuple[str, ...]:
    raw = doc.get("terrain", [])
    options = ", ".join(TERRAIN_CHANNELS)
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise fail(label, f"'terrain' must be a list of terrain channels computed from a DEM ({options}).")
    unknown = [t for t in raw if t not in TERRAIN_CHANNELS]
    if unknown:
        raise fail(label, f"'terrain' lists unknown channel(s) {', '.join(unknown)}; ChangeLens computes {options}.")
    if len(set(raw)) != len(raw):
        raise fail(label, f"'terrain' lists a channel twice ({', '.join(raw)}).")
    if raw and layout not in TERRAIN_LAYOUTS:
        raise fail(label, f"'terrain' channels need layout 'single' or 'concat' (got '{layout}').")
    return tuple(raw)


def _changelens(doc: Mapping[str, Any], label: str) -> ModelMeta:
    if doc.get(SCHEMA_KEY) != SCHEMA_VERSION:
        found = doc.get(SCHEMA_KEY)
        raise fail(label, f"'{SCHEMA_KEY}' is {found!r}; this ChangeLens reads version {SCHEMA_VERSION}.")
    layout = choice(doc, "layout", label, LAYOUTS, "single")
    input_names = doc.get("input_names", [])
    if not isinstance(input_names, list) or not all(isinstance(n, str) for n in input_names):
        raise fail(label, "'input_names' must be a list of model input names.")
    if input_names and len(input_names) != (2 if layout == "separate" else 1):
        raise fail(label, f"layout '{layout}' takes {2 if layout == 'separate' else 1} input name(s).")
    tile = integer(doc, "tile_size_px", label, 256, minimum=8)
    overlap = integer(doc, "tile_overlap_px", label, tile // 8, minimum=0)
    if overlap * 2 > tile:
        raise fail(label, f"'tile_overlap_px' ({overlap}) must be at most half the tile size ({tile}).")
    kind, activation, output_name = _output(doc, label)
    scheme = class_scheme(doc.get("classes"), label)
    threshold = number(doc, "threshold", label)
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise fail(label, f"'threshold' must be a probability between 0 and 1 (got {threshold}).")
    if threshold is not None and len(scheme.classes) != 2:
        raise fail(label, "'threshold' applies to two-class models only.")
    text = {k: doc.get(k, "") for k in ("name", "version", "license", "training_data", "description")}
    for key, value in text.items():
        if not isinstance(value, (str, int, float)):
            raise fail(label, f"'{key}' must be text.")
    return ModelMeta(
        name=str(text["name"] or label),
        task=choice(doc, "task", label, TASKS, "segmentation"),
        scheme=scheme,
        layout=layout,
        bands=_bands(doc, label),
        tile_size_px=tile,
        tile_overlap_px=overlap,
        output_kind=kind,
        activation=activation,
        threshold=threshold,
        values=choice(doc, "values", label, VALUES, "stored"),
        normalization=choice(doc, "normalization", label, NORMALIZATIONS, "fixed"),
        fill_value=float(number(doc, "fill_value", label, 0.0)),
        pixel_size_m=number(doc, "pixel_size_m", label, None, positive=True),
        input_names=tuple(input_names),
        output_name=output_name,
        terrain=_terrain(doc, label, layout),
        version=str(text["version"]),
        license=str(text["license"]),
        training_data=str(text["training_data"]),
        description=str(text["description"]),
        ignored_keys=tuple(sorted(set(doc) - set(KNOWN_KEYS))),
    )


def parse_metadata(props: Mapping[str, str], label: str, input_channels: int | None = None) -> ModelMeta:
    """Validate ``metadata_props`` into a :class:`ModelMeta` (ChangeLens schema first, else Deepness).

    ``input_channels`` (from the model graph) sizes Deepness models, whose bands are
    the first channels of the image.
    """
    doc = decode_props(props, label)
    if SCHEMA_KEY in doc:
        return _changelens(doc, label)
    if "model_type" in doc or "class_names" in doc:
        return parse_deepness(doc, label, input_channels)
    raise ModelMetadataError(
        f"Model '{label}' has no ChangeLens metadata: describe its bands, classes and tiles with "
        "'Edit ONNX model metadata' (Processing) or tools/onnx_metadata.py (see models/README.md)."
    )


def read_model_metadata(path: str, input_channels: int | None = None) -> ModelMeta:
    """Read and validate the metadata of the ONNX file at ``path``."""
    label = os.path.basename(path)
    return parse_metadata(read_metadata_props(path), label, input_channels)


def document_to_props(document: Mapping[str, Any], label: str = "model") -> dict[str, str]:
    """Validate a metadata document and encode each value as JSON (the ``metadata_props`` form)."""
    doc = dict(document)
    unknown = sorted(set(doc) - set(KNOWN_KEYS))
    if unknown:
        raise fail(label, f"unknown key(s) {', '.join(unknown)} (see models/README.md for the schema).")
    doc.setdefault(SCHEMA_KEY, SCHEMA_VERSION)
    props = {key: json.dumps(value) for key, value in doc.items()}
    parse_metadata(props, label)
    return props


def write_metadata(model: Any, document: Mapping[str, Any], out_path: str | None = None) -> None:
    """Store ``document`` (validated) in ``model``: an ``onnx.ModelProto`` or the path of an ``.onnx`` file.

    Existing ChangeLens keys are replaced; other keys (producer notes, Deepness keys) are kept.
    """
    props = document_to_props(document, getattr(model, "graph", None) and model.graph.name or str(model))
    if isinstance(model, (str, os.PathLike)):
        current = read_metadata_props(str(model))
        merged = {k: v for k, v in current.items() if k not in KNOWN_KEYS}
        merged.update(props)
        write_metadata_props(str(model), merged, out_path)
        return
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in KNOWN_KEYS]
    del model.metadata_props[:]
    for key, value in [*kept, *props.items()]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def with_overrides(meta: ModelMeta, **changes: Any) -> ModelMeta:
    """A copy of ``meta`` with run-time overrides (tile size, overlap, threshold) applied."""
    clean = {k: v for k, v in changes.items() if v is not None}
    return replace(meta, **clean) if clean else meta


__all__ = [
    "ACTIVATIONS",
    "BandPrep",
    "KNOWN_KEYS",
    "LAYOUTS",
    "ModelMeta",
    "NORMALIZATIONS",
    "OUTPUT_KINDS",
    "SCHEMA_KEY",
    "SCHEMA_VERSION",
    "TASKS",
    "TERRAIN_CHANNELS",
    "TERRAIN_LAYOUTS",
    "TWO_DATE_LAYOUTS",
    "VALUES",
    "decode_props",
    "document_to_props",
    "parse_metadata",
    "read_model_metadata",
    "with_overrides",
    "write_metadata",
]
