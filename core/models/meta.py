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
from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from ..classes import ClassScheme
from ..errors import ModelMetadataError
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

SCHEMA_KEY = "changelens_schema"
SCHEMA_VERSION = 1
TASKS = ("change_detection", "segmentation", "burned_area", "burn_severity", "flood", "landslide", "land_cover")
LAYOUTS = ("single", "concat", "stacked", "separate")
TWO_DATE_LAYOUTS = ("concat", "stacked", "separate")
VALUES = ("stored", "reflectance")
NORMALIZATIONS = ("fixed", "per_scene")
OUTPUT_KINDS = ("logits", "probabilities")
ACTIVATIONS = ("softmax", "sigmoid", "none")
# Terrain channels a model may take after the images' bands, computed by ChangeLens from a DEM.
TERRAIN_CHANNELS = ("slope_deg",)
TERRAIN_LAYOUTS = ("single", "concat")
KNOWN_KEYS = (
    SCHEMA_KEY,
    "name",
    "task",
    "description",
    "classes",
    "layout",
    "input_names",
    "bands",
    "values",
    "preprocessing",
    "normalization",
    "fill_value",
    "tile_size_px",
    "tile_overlap_px",
    "pixel_size_m",
    "output",
    "threshold",
    "terrain",
    "version",
    "license",
    "training_data",
    "author",
    "url",
)


@dataclass(frozen=True)
class BandPrep:
    """One input band: its name (or ``#k`` for band k) and how its values are prepared.

    ``value * scale + offset`` -> optional ``10 * log10`` (dB) -> optional clip -> ``(v - mean) / std``.
    """

    band: str
    scale: float = 1.0
    offset: float = 0.0
    db: bool = False
    clip: tuple[float, float] | None = None
    mean: float = 0.0
    std: float = 1.0

    @property
    def index(self) -> int | None:
        """The 1-based band index for ``#k`` names, else None."""
        return int(self.band[1:]) if self.band.startswith("#") else None

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """Scale, offset, dB and clip (everything before standardisation), in place when possible."""
        out = values
        if self.scale != 1.0:
            out *= np.float32(self.scale)
        if self.offset != 0.0:
            out += np.float32(self.offset)
        if self.db:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = 10.0 * np.log10(np.maximum(out, np.float32(1e-6)), dtype=np.float32)
        if self.clip is not None:
            np.maximum(out, np.float32(self.clip[0]), out=out)
            np.minimum(out, np.float32(self.clip[1]), out=out)
        return out

    def apply(self, values: np.ndarray, mean: float | None = None, std: float | None = None) -> np.ndarray:
        """The model-ready values (in place); ``mean``/``std`` override the fixed ones (per-scene normalisation)."""
        m = self.mean if mean is None else mean
        s = self.std if std is None else std
        if self.db or self.clip is not None:
            out = self.scaled(values)
            gain, bias = 1.0 / s, -m / s
        else:  # one fused affine pass: (v * scale + offset - mean) / std
            out = values
            gain, bias = self.scale / s, (self.offset - m) / s
        if gain != 1.0:
            out *= np.float32(gain)
        if bias != 0.0:
            out += np.float32(bias)
        return out


@dataclass(frozen=True)
class ModelMeta:
    """A validated model description: what it expects and how to read its output."""

    name: str
    task: str
    scheme: ClassScheme
    layout: str
    bands: tuple[BandPrep, ...]
    tile_size_px: int
    tile_overlap_px: int
    output_kind: str = "logits"
    activation: str = "softmax"
    threshold: float | None = None
    values: str = "stored"
    normalization: str = "fixed"
    fill_value: float = 0.0
    pixel_size_m: float | None = None
    input_names: tuple[str, ...] = ()
    output_name: str | None = None
    terrain: tuple[str, ...] = ()
    version: str = ""
    license: str = ""
    training_data: str = ""
    description: str = ""
    source: str = "changelens"
    ignored_keys: tuple[str, ...] = ()

    @property
    def dates(self) -> int:
        """How many images the model takes (1 or 2)."""
        return 2 if self.layout in TWO_DATE_LAYOUTS else 1

    @property
    def channels_per_date(self) -> int:
        """Bands read from each image."""
        return len(self.bands)

    @property
    def input_channels(self) -> int:
        """Channels of the (first) model input: the images' bands as the layout feeds them, then terrain."""
        per_input = self.channels_per_date * (2 if self.layout == "concat" else 1)
        return per_input + len(self.terrain)

    @property
    def class_count(self) -> int:
        """Number of classes in the class raster."""
        return len(self.scheme.classes)

    def summary(self) -> str:
        """One line for the log: name, task, layout, bands, tile."""
        names = ", ".join(b.band for b in self.bands)
        pixel = f", trained at {self.pixel_size_m:g} m" if self.pixel_size_m else ""
        terrain = f" + terrain {', '.join(self.terrain)} from the DEM" if self.terrain else ""
        return (
            f"Model '{self.name}' ({self.task}, {self.source} metadata, version {self.version or '?'}): "
            f"{self.dates} image(s), layout '{self.layout}', bands {names}{terrain}; tiles {self.tile_size_px} px with "
            f"{self.tile_overlap_px} px overlap{pixel}; classes: {', '.join(c.name for c in self.scheme.classes)}."
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
        from .deepness import parse_deepness

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
