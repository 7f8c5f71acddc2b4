"""The ChangeLens model metadata standard, stored as JSON values in an ONNX file's ``metadata_props``.

Every key of the document (see ``models/README.md``) is one ``metadata_props`` entry
whose value is JSON. :func:`parse_metadata` validates it into a :class:`ModelMeta`
with one clear sentence per problem; models exported for the Deepness plugin
(``model_type``, ``class_names``, ``resolution``, ...) load too (:mod:`deepness`). :func:`write_metadata`
puts a document into an ``onnx.ModelProto`` (training scripts) or an ``.onnx`` file.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from .classes import ClassInfo, ClassScheme
from .errors import ModelMetadataError
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
CLASS_NODATA = 255
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
PALETTE = ("#d9d9d9", "#e31a1c", "#1f78b4", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


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


def _fail(label: str, message: str) -> ModelMetadataError:
    return ModelMetadataError(f"Model '{label}' metadata: {message}")


def decode_props(props: Mapping[str, str], label: str) -> dict[str, Any]:
    """Every ``metadata_props`` value decoded from JSON (plain strings are kept as strings)."""
    out: dict[str, Any] = {}
    for key, text in props.items():
        try:
            out[key] = json.loads(text)
        except (ValueError, TypeError):
            out[key] = text
    return out


def _number(
    doc: Mapping[str, Any], key: str, label: str, default: Any = None, positive: bool = False, where: str = ""
) -> Any:
    value = doc.get(key, default)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _fail(label, f"{where}'{key}' must be a number (got '{value}').") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(label, f"{where}'{key}' must be a number (got {value!r}).")
    if positive and value <= 0:
        raise _fail(label, f"{where}'{key}' must be greater than 0 (got {value!r}).")
    return value


def _integer(doc: Mapping[str, Any], key: str, label: str, default: Any = None, minimum: int = 0) -> Any:
    value = _number(doc, key, label, default)
    if value is None:
        return None
    if int(value) != value or value < minimum:
        raise _fail(label, f"'{key}' must be a whole number >= {minimum} (got {value!r}).")
    return int(value)


def _choice(doc: Mapping[str, Any], key: str, label: str, options: Sequence[str], default: str) -> str:
    value = doc.get(key, default)
    if value not in options:
        raise _fail(label, f"'{key}' must be one of {', '.join(options)} (got {value!r}).")
    return str(value)


def _classes(raw: Any, label: str) -> ClassScheme:
    if not isinstance(raw, list) or len(raw) < 2:
        raise _fail(label, "'classes' must be a list of at least 2 classes ({'name': ..., 'color': '#rrggbb'}).")
    if len(raw) > CLASS_NODATA:
        raise _fail(label, f"'classes' may hold at most {CLASS_NODATA} classes.")
    infos = []
    for value, item in enumerate(raw):
        item = {"name": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise _fail(label, f"class {value} must have a non-empty 'name'.")
        color = item.get("color", PALETTE[value % len(PALETTE)])
        if not isinstance(color, str) or not _COLOR.match(color):
            raise _fail(label, f"class '{item['name']}' has colour {color!r}; use '#rrggbb'.")
        background = item.get("background", value == 0)
        if not isinstance(background, bool):
            raise _fail(label, f"class '{item['name']}': 'background' must be true or false.")
        infos.append(ClassInfo(value, item["name"].strip(), color.lower(), background))
    return ClassScheme(tuple(infos), nodata=CLASS_NODATA)


def _band_name(raw: Any, label: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _fail(label, f"band {raw!r} must be a band name such as 'B04' or 'VV', or a band number.")
    if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().lstrip("#").isdigit()):
        number = int(str(raw).strip().lstrip("#"))
        if number < 1:
            raise _fail(label, f"band number {raw!r} must be 1 or more.")
        return f"#{number}"
    text = raw.strip()
    if not text:
        raise _fail(label, "band names must not be empty.")
    return text


def _prep(band: str, spec: Mapping[str, Any], label: str) -> BandPrep:
    unknown = set(spec) - {"scale", "offset", "db", "clip", "mean", "std"}
    if unknown:
        raise _fail(label, f"band '{band}' has unknown preprocessing key(s) {', '.join(sorted(unknown))}.")
    clip = spec.get("clip")
    if clip is not None:
        if not isinstance(clip, list) or len(clip) != 2 or not all(isinstance(v, (int, float)) for v in clip):
            raise _fail(label, f"band '{band}': 'clip' must be [low, high].")
        if not clip[0] < clip[1]:
            raise _fail(label, f"band '{band}': 'clip' low must be below high (got {clip}).")
        clip = (float(clip[0]), float(clip[1]))
    db = spec.get("db", False)
    if not isinstance(db, bool):
        raise _fail(label, f"band '{band}': 'db' must be true or false.")
    where = f"band '{band}': "
    scale = _number(spec, "scale", label, 1.0, where=where)
    if scale == 0:
        raise _fail(label, f"band '{band}': 'scale' must not be 0.")
    return BandPrep(
        band,
        float(scale),
        float(_number(spec, "offset", label, 0.0, where=where)),
        db,
        clip,
        float(_number(spec, "mean", label, 0.0, where=where)),
        float(_number(spec, "std", label, 1.0, positive=True, where=where)),
    )


def _canonical(name: str) -> str:
    """``B4`` == ``B04`` == ``b04`` (GDAL's band naming rules when GDAL is importable)."""
    try:
        from .raster import canonical_band_name
    except ImportError:  # the metadata tool under a Python without GDAL
        return name.strip().upper()
    return canonical_band_name(name)


def _bands(doc: Mapping[str, Any], label: str) -> tuple[BandPrep, ...]:
    raw = doc.get("bands")
    if not isinstance(raw, list) or not raw:
        raise _fail(label, '\'bands\' must list the bands each image provides, e.g. ["B04", "B08"].')
    names = [_band_name(b, label) for b in raw]
    if len({_canonical(n) for n in names}) != len(names):
        raise _fail(label, f"'bands' lists a band twice ({', '.join(names)}).")
    prep = doc.get("preprocessing", {})
    if isinstance(prep, list):
        if len(prep) != len(names) or not all(isinstance(p, dict) for p in prep):
            raise _fail(label, f"'preprocessing' as a list needs one object per band ({len(names)}).")
        return tuple(_prep(n, p, label) for n, p in zip(names, prep))
    if not isinstance(prep, dict):
        raise _fail(label, "'preprocessing' must be an object keyed by band name (\"*\" = every band) or a list.")
    by_name = {_canonical(str(k)): v for k, v in prep.items()}
    extra = set(by_name) - {_canonical(n) for n in names} - {"*"}
    if extra:
        raise _fail(label, f"'preprocessing' names band(s) not in 'bands': {', '.join(sorted(extra))}.")
    out = []
    for name in names:
        spec = dict(by_name.get("*", {}))
        spec.update(by_name.get(_canonical(name), {}))
        out.append(_prep(name, spec, label))
    return tuple(out)


def _output(doc: Mapping[str, Any], label: str) -> tuple[str, str, str | None]:
    raw = doc.get("output", {})
    if not isinstance(raw, dict):
        raise _fail(label, '\'output\' must be an object like {"kind": "logits", "activation": "softmax"}.')
    kind = _choice(raw, "kind", label, OUTPUT_KINDS, "logits")
    activation = _choice(raw, "activation", label, ACTIVATIONS, "softmax" if kind == "logits" else "none")
    if kind == "probabilities" and activation != "none":
        raise _fail(label, "an output of kind 'probabilities' takes activation 'none'.")
    if kind == "logits" and activation == "none":
        raise _fail(label, "an output of kind 'logits' needs activation 'softmax' or 'sigmoid'.")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise _fail(label, "'output.name' must be the name of a model output.")
    return kind, activation, name


def _terrain(doc: Mapping[str, Any], label: str, layout: str) -> tuple[str, ...]:
    raw = doc.get("terrain", [])
    options = ", ".join(TERRAIN_CHANNELS)
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise _fail(label, f"'terrain' must be a list of terrain channels computed from a DEM ({options}).")
    unknown = [t for t in raw if t not in TERRAIN_CHANNELS]
    if unknown:
        raise _fail(label, f"'terrain' lists unknown channel(s) {', '.join(unknown)}; ChangeLens computes {options}.")
    if len(set(raw)) != len(raw):
        raise _fail(label, f"'terrain' lists a channel twice ({', '.join(raw)}).")
    if raw and layout not in TERRAIN_LAYOUTS:
        raise _fail(label, f"'terrain' channels need layout 'single' or 'concat' (got '{layout}').")
    return tuple(raw)


def _changelens(doc: Mapping[str, Any], label: str) -> ModelMeta:
    if doc.get(SCHEMA_KEY) != SCHEMA_VERSION:
        found = doc.get(SCHEMA_KEY)
        raise _fail(label, f"'{SCHEMA_KEY}' is {found!r}; this ChangeLens reads version {SCHEMA_VERSION}.")
    layout = _choice(doc, "layout", label, LAYOUTS, "single")
    input_names = doc.get("input_names", [])
    if not isinstance(input_names, list) or not all(isinstance(n, str) for n in input_names):
        raise _fail(label, "'input_names' must be a list of model input names.")
    if input_names and len(input_names) != (2 if layout == "separate" else 1):
        raise _fail(label, f"layout '{layout}' takes {2 if layout == 'separate' else 1} input name(s).")
    tile = _integer(doc, "tile_size_px", label, 256, minimum=8)
    overlap = _integer(doc, "tile_overlap_px", label, tile // 8, minimum=0)
    if overlap * 2 > tile:
        raise _fail(label, f"'tile_overlap_px' ({overlap}) must be at most half the tile size ({tile}).")
    kind, activation, output_name = _output(doc, label)
    scheme = _classes(doc.get("classes"), label)
    threshold = _number(doc, "threshold", label)
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise _fail(label, f"'threshold' must be a probability between 0 and 1 (got {threshold}).")
    if threshold is not None and len(scheme.classes) != 2:
        raise _fail(label, "'threshold' applies to two-class models only.")
    text = {k: doc.get(k, "") for k in ("name", "version", "license", "training_data", "description")}
    for key, value in text.items():
        if not isinstance(value, (str, int, float)):
            raise _fail(label, f"'{key}' must be text.")
    return ModelMeta(
        name=str(text["name"] or label),
        task=_choice(doc, "task", label, TASKS, "segmentation"),
        scheme=scheme,
        layout=layout,
        bands=_bands(doc, label),
        tile_size_px=tile,
        tile_overlap_px=overlap,
        output_kind=kind,
        activation=activation,
        threshold=threshold,
        values=_choice(doc, "values", label, VALUES, "stored"),
        normalization=_choice(doc, "normalization", label, NORMALIZATIONS, "fixed"),
        fill_value=float(_number(doc, "fill_value", label, 0.0)),
        pixel_size_m=_number(doc, "pixel_size_m", label, None, positive=True),
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
        raise _fail(label, f"unknown key(s) {', '.join(unknown)} (see models/README.md for the schema).")
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
