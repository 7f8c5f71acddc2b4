"""Add or edit ChangeLens metadata on an existing ONNX file (command line and Processing).

Usable without QGIS and without the ``onnx`` package: ``python tools/onnx_metadata.py``
or ``python -m changelens.core.models.edit`` when the plugin folder is on the path.
When onnxruntime is installed the result is also checked against the model's graph
(input count, channels, fixed tile size), so a bad edit is refused before it is saved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Mapping, Sequence

from ..errors import ChangeLensError, ModelMetadataError, RuntimeMissingError
from .graph import check_graph, input_channels
from .meta import KNOWN_KEYS, SCHEMA_KEY, SCHEMA_VERSION, ModelMeta, decode_props, parse_metadata
from .onnx_file import read_metadata_props, write_metadata_props


def read_document(path: str) -> dict[str, Any]:
    """The model's metadata as a JSON-ready document (every key, decoded)."""
    return decode_props(read_metadata_props(path), os.path.basename(path))


def _graph_check(path: str, meta_props: Mapping[str, str]) -> ModelMeta:
    label = os.path.basename(path)
    try:
        from .runtime import import_onnxruntime

        ort = import_onnxruntime()
    except RuntimeMissingError:
        return parse_metadata(meta_props, label)
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 - the graph check is a bonus; the metadata itself is validated below
        return parse_metadata(meta_props, label)
    meta = parse_metadata(meta_props, label, input_channels(session))
    check_graph(meta, session, label)
    return meta


def edit_metadata(
    path: str, updates: Mapping[str, Any], remove: Sequence[str] = (), out_path: str | None = None
) -> ModelMeta:
    """Merge ``updates`` into the model's ChangeLens metadata, drop ``remove`` keys, validate, write.

    Writes ``out_path`` (default: in place). Keys that are not ChangeLens keys are refused,
    so a typo cannot be stored silently. Returns the validated metadata.
    """
    unknown = [k for k in list(updates) + list(remove) if k not in KNOWN_KEYS]
    if unknown:
        raise ModelMetadataError(
            f"Unknown metadata key(s) {', '.join(sorted(unknown))}; valid keys: {', '.join(KNOWN_KEYS)}."
        )
    props = read_metadata_props(path)
    for key in remove:
        props.pop(key, None)
    for key, value in updates.items():
        props[key] = json.dumps(value)
    props.setdefault(SCHEMA_KEY, json.dumps(SCHEMA_VERSION))
    target = out_path or path
    meta = _graph_check(path, props)
    write_metadata_props(path, props, target)
    return meta


def parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse as JSON, else plain text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ModelMetadataError(f"'{item}' is not key=value.")
        try:
            out[key.strip()] = json.loads(text)
        except ValueError:
            out[key.strip()] = text
    return out


def _load_json(source: str) -> dict[str, Any]:
    if source == "-":
        text = sys.stdin.read()
    else:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ModelMetadataError(f"The metadata JSON is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ModelMetadataError("The metadata JSON must be an object of key: value pairs.")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``show``, ``set`` (``--json FILE``, ``--set key=value``, ``--remove key``, ``--out``)."""
    parser = argparse.ArgumentParser(prog="onnx_metadata", description="Show or edit ChangeLens ONNX model metadata.")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the metadata and check it")
    show.add_argument("model")
    edit = sub.add_parser("set", help="add or change metadata keys")
    edit.add_argument("model")
    edit.add_argument("--json", help="a JSON file (or - for stdin) with keys to set")
    edit.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one key (JSON value)")
    edit.add_argument("--remove", action="append", default=[], metavar="KEY", help="drop a key")
    edit.add_argument("--out", help="write a new file instead of editing in place")
    args = parser.parse_args(argv)
    try:
        if args.command == "show":
            print(json.dumps(read_document(args.model), indent=2))  # noqa: T201 - command-line output
            meta = _graph_check(args.model, read_metadata_props(args.model))
        else:
            updates = _load_json(args.json) if args.json else {}
            updates.update(parse_assignments(args.set))
            meta = edit_metadata(args.model, updates, args.remove, args.out)
            print(f"Wrote {os.path.abspath(args.out or args.model)}")  # noqa: T201
    except (ChangeLensError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"OK: {meta.summary()}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
