"""Read and rewrite an ONNX file's ``metadata_props`` without the ``onnx`` package.

An ONNX file is a protobuf ``ModelProto``; ``metadata_props`` is its repeated field 14
of ``{1: key, 2: value}`` string pairs. Walking the top-level fields of the wire format
is enough to read those pairs, to check that a file is a model at all, and to replace
them while copying every other field byte for byte. This keeps the metadata tools
usable from QGIS's Python, where only onnxruntime (or nothing) may be installed.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator, Mapping

from ..errors import ModelFileError

_METADATA_FIELD = 14
_GRAPH_FIELD = 7
_IR_VERSION_FIELD = 1


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; returns (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fields(data: bytes) -> Iterator[tuple[int, int, int, int, bytes | int]]:
    """Top-level fields as (number, wire type, start, end, payload)."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, start, pos, value
        elif wire == 1:
            pos += 8
            yield number, wire, start, pos, 0
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            yield number, wire, start, pos + length, data[pos : pos + length]
            pos += length
        elif wire == 5:
            pos += 4
            yield number, wire, start, pos, 0
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated field")


def _entry(payload: bytes) -> tuple[str, str]:
    key = value = ""
    for number, wire, _s, _e, field in _fields(payload):
        if wire == 2 and number == 1:
            key = bytes(field).decode("utf-8")  # type: ignore[arg-type]
        elif wire == 2 and number == 2:
            value = bytes(field).decode("utf-8")  # type: ignore[arg-type]
    return key, value


def _load(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ModelFileError(f"Cannot read the model file '{path}' ({exc.strerror}).") from exc


def _parse(path: str, data: bytes) -> list[tuple[int, int, int, bytes | int]]:
    """Every top-level field, or :class:`ModelFileError` when this is not an ONNX model."""
    try:
        fields = [(n, s, e, p) for n, w, s, e, p in _fields(data)]
        for number, _s, _e, payload in fields:
            if number == _METADATA_FIELD and isinstance(payload, bytes):
                _entry(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"'{os.path.basename(path)}' is not a valid ONNX model (the file is truncated or corrupt: {exc}); "
            "export the model again or download it again."
        ) from exc
    numbers = {n for n, _s, _e, _p in fields}
    if _GRAPH_FIELD not in numbers or _IR_VERSION_FIELD not in numbers:
        raise ModelFileError(
            f"'{os.path.basename(path)}' is not an ONNX model (no graph found); pick the .onnx file exported "
            "from your training framework."
        )
    return fields


def read_metadata_props(path: str) -> dict[str, str]:
    """The model's ``metadata_props`` as a dict (raises :class:`ModelFileError` for a non-model file)."""
    data = _load(path)
    props: dict[str, str] = {}
    for number, _s, _e, payload in _parse(path, data):
        if number == _METADATA_FIELD and isinstance(payload, bytes):
            key, value = _entry(payload)
            props[key] = value
    return props


def _encode_entry(key: str, value: str) -> bytes:
    body = bytearray()
    for number, text in ((1, key), (2, value)):
        raw = text.encode("utf-8")
        body += _encode_varint((number << 3) | 2) + _encode_varint(len(raw)) + raw
    return _encode_varint((_METADATA_FIELD << 3) | 2) + _encode_varint(len(body)) + bytes(body)


def write_metadata_props(path: str, props: Mapping[str, str], out_path: str | None = None) -> str:
    """Replace the model's ``metadata_props`` by ``props``; every other byte is kept.

    Writes ``out_path`` (default: ``path`` itself) through a temporary file, so a
    failure never leaves a half-written model behind. Returns the written path.
    """
    data = _load(path)
    kept = bytearray()
    for number, start, end, _payload in _parse(path, data):
        if number != _METADATA_FIELD:
            kept += data[start:end]
    for key, value in props.items():
        kept += _encode_entry(key, value)
    target = os.path.abspath(out_path or path)
    temp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with open(temp, "wb") as handle:
            handle.write(bytes(kept))
        os.replace(temp, target)
    except OSError as exc:
        if os.path.exists(temp):
            os.remove(temp)
        raise ModelFileError(f"Cannot write the model file '{target}' ({exc.strerror}).") from exc
    return target
