"""Show or edit ChangeLens metadata in an ONNX file, without QGIS (see models/README.md).

python tools/onnx_metadata.py show model.onnx
python tools/onnx_metadata.py set model.onnx --json card.json --set tile_size_px=512 --out ready.onnx
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def core_module(name: str) -> types.ModuleType:
    """Import ``core.<name>`` as part of a ``changelens`` package without running the plugin's __init__ (QGIS)."""
    if "changelens" not in sys.modules:
        package = types.ModuleType("changelens")
        package.__path__ = [str(ROOT)]  # type: ignore[attr-defined]
        sys.modules["changelens"] = package
    return importlib.import_module(f"changelens.core.{name}")


if __name__ == "__main__":
    sys.exit(core_module("models.edit").main())
