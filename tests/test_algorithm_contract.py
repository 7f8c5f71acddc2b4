"""The public contract of every algorithm: ids, parameter names, types, defaults, enum options, outputs.

Saved graphical models, scripts and batch job files store parameter names and enum numbers, so
these may only grow. ``tests/data/algorithm_contract.json`` pins the contract; a new parameter or
output may be added to an algorithm (regenerate the file with
``CHANGELENS_WRITE_CONTRACT=1 .venv/bin/pytest tests/test_algorithm_contract.py``), but nothing
pinned may change or disappear.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from changelens.processing.compat import FLAG_ADVANCED, FLAG_OPTIONAL
from qgis.core import QgsProcessingModelAlgorithm

CONTRACT = Path(__file__).parent / "data" / "algorithm_contract.json"


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a default value (QVariant-ish values become strings)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def describe(definition: Any) -> dict[str, Any]:
    """What a saved model or script relies on in one parameter definition."""
    entry: dict[str, Any] = {
        "type": definition.type(),
        "description": definition.description(),
        "default": _plain(definition.defaultValue()),
        "optional": bool(definition.flags() & FLAG_OPTIONAL),
        "advanced": bool(definition.flags() & FLAG_ADVANCED),
    }
    for attribute in ("options", "minimum", "maximum", "dataType", "parentLayerParameterName", "usesStaticStrings"):
        getter = getattr(definition, attribute, None)
        if callable(getter):
            entry[attribute] = _plain(getter())
    if entry.get("usesStaticStrings"):  # chosen by name (e.g. the installed models): the list may change
        entry.pop("options")
    create = getattr(definition, "createByDefault", None)
    if callable(create):
        entry["createByDefault"] = bool(create())
    return entry


def snapshot(provider: Any) -> dict[str, Any]:
    """Every non-workflow algorithm's parameters (in order) and outputs."""
    out: dict[str, Any] = {}
    for alg in sorted(provider.algorithms(), key=lambda a: a.id()):
        if isinstance(alg, QgsProcessingModelAlgorithm):
            continue
        out[alg.id()] = {
            "displayName": alg.displayName(),
            "group": alg.groupId(),
            "parameters": [[d.name(), describe(d)] for d in alg.parameterDefinitions()],
            "outputs": [[o.name(), o.type(), o.description()] for o in alg.outputDefinitions()],
        }
    return out


def test_no_pinned_parameter_or_output_changed(provider) -> None:  # noqa: ANN001
    now = snapshot(provider)
    if os.environ.get("CHANGELENS_WRITE_CONTRACT"):
        CONTRACT.write_text(json.dumps(now, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    pinned = json.loads(CONTRACT.read_text(encoding="utf-8"))
    for alg_id, spec in pinned.items():
        assert alg_id in now, f"algorithm {alg_id} disappeared"
        current = now[alg_id]
        assert current["group"] == spec["group"], alg_id
        names = [name for name, _entry in current["parameters"]]
        pinned_names = [name for name, _entry in spec["parameters"]]
        assert [n for n in names if n in pinned_names] == pinned_names, f"{alg_id}: parameter order changed"
        by_name = dict((name, entry) for name, entry in current["parameters"])
        for name, entry in spec["parameters"]:
            assert by_name[name] == entry, f"{alg_id} {name}"
        outputs = {name: [kind, label] for name, kind, label in current["outputs"]}
        for name, kind, label in spec["outputs"]:
            assert outputs.get(name) == [kind, label], f"{alg_id} output {name}"
