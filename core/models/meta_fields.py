"""Field readers of the model metadata standard: each returns a checked value or raises one sentence.

Shared by :mod:`model_meta` (the ChangeLens keys) and :mod:`deepness` (Deepness keys), so both
word their errors the same way: ``Model '<name>' metadata: <what is wrong and what to write>``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping, Sequence

from ..classes import ClassInfo, ClassScheme
from ..errors import ModelMetadataError

CLASS_NODATA = 255
PALETTE = ("#d9d9d9", "#e31a1c", "#1f78b4", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def fail(label: str, message: str) -> ModelMetadataError:
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


def number(
    doc: Mapping[str, Any], key: str, label: str, default: Any = None, positive: bool = False, where: str = ""
) -> Any:
    value = doc.get(key, default)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise fail(label, f"{where}'{key}' must be a number (got '{value}').") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(label, f"{where}'{key}' must be a number (got {value!r}).")
    if positive and value <= 0:
        raise fail(label, f"{where}'{key}' must be greater than 0 (got {value!r}).")
    return value


def integer(doc: Mapping[str, Any], key: str, label: str, default: Any = None, minimum: int = 0) -> Any:
    value = number(doc, key, label, default)
    if value is None:
        return None
    if int(value) != value or value < minimum:
        raise fail(label, f"'{key}' must be a whole number >= {minimum} (got {value!r}).")
    return int(value)


def choice(doc: Mapping[str, Any], key: str, label: str, options: Sequence[str], default: str) -> str:
    value = doc.get(key, default)
    if value not in options:
        raise fail(label, f"'{key}' must be one of {', '.join(options)} (got {value!r}).")
    return str(value)


def class_scheme(raw: Any, label: str) -> ClassScheme:
    if not isinstance(raw, list) or len(raw) < 2:
        raise fail(label, "'classes' must be a list of at least 2 classes ({'name': ..., 'color': '#rrggbb'}).")
    if len(raw) > CLASS_NODATA:
        raise fail(label, f"'classes' may hold at most {CLASS_NODATA} classes.")
    infos = []
    for value, item in enumerate(raw):
        item = {"name": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise fail(label, f"class {value} must have a non-empty 'name'.")
        color = item.get("color", PALETTE[value % len(PALETTE)])
        if not isinstance(color, str) or not _COLOR.match(color):
            raise fail(label, f"class '{item['name']}' has colour {color!r}; use '#rrggbb'.")
        background = item.get("background", value == 0)
        if not isinstance(background, bool):
            raise fail(label, f"class '{item['name']}': 'background' must be true or false.")
        infos.append(ClassInfo(value, item["name"].strip(), color.lower(), background))
    return ClassScheme(tuple(infos), nodata=CLASS_NODATA)


def band_name(raw: Any, label: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise fail(label, f"band {raw!r} must be a band name such as 'B04' or 'VV', or a band number.")
    if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().lstrip("#").isdigit()):
        index = int(str(raw).strip().lstrip("#"))
        if index < 1:
            raise fail(label, f"band number {raw!r} must be 1 or more.")
        return f"#{index}"
    text = raw.strip()
    if not text:
        raise fail(label, "band names must not be empty.")
    return text


def canonical(name: str) -> str:
    """``B4`` == ``B04`` == ``b04`` (GDAL's band naming rules when GDAL is importable)."""
    try:
        from ..io.raster import canonical_band_name
    except ImportError:  # the metadata tool under a Python without GDAL
        return name.strip().upper()
    return canonical_band_name(name)
