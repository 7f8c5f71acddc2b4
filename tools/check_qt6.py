"""Fail on Qt5-only API in the plugin and its tests, so that ChangeLens keeps loading on QGIS 4 (Qt6).

What PyQt6 no longer accepts, found from the syntax tree alone (no Qt needed):

- ``exec_()`` / ``print_()`` (use ``exec()`` / ``print()``, also on PyQt5 5.15);
- unscoped enum values of Qt and QGIS classes: ``Qt.UserRole``, ``QDialogButtonBox.Close``,
  ``QgsMapSettings.Antialiasing`` (write ``Qt.ItemDataRole.UserRole`` …, or take QGIS enums from
  ``processing/compat.py``); ``Class.Enum.Value`` chains and ALL_CAPS constants are fine;
- ``addAction(text, slot)`` and other ``addAction`` calls that pass a receiver (PyQt6 keeps only
  ``addAction(action)``, ``addAction(text)`` and ``addAction(icon, text)``: connect the returned action);
- classes, modules and methods that Qt6 removed (``QRegExp``, ``QDesktopWidget``, ``qApp``,
  ``QImage.byteCount`` …) and direct ``PyQt5`` imports (go through ``qgis.PyQt``).

Usage: ``python tools/check_qt6.py [PATH ...]`` (default: the plugin, ``ui/``, ``processing/``,
``tests/``, ``tools/``). Exit status 1 and one ``file:line: message`` per finding when any is found.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("__init__.py", "plugin.py", "ui", "processing", "tests", "tools")

QT_CLASS = re.compile(r"^(Qt|Qgis|Qgs[A-Z]\w*|Q[A-Z]\w*)$")
# A member that starts upper case and is not an ALL_CAPS_CONSTANT (TEMPORARY_OUTPUT, QGIS_VERSION_INT).
ENUM_VALUE = re.compile(r"^[A-Z](?:\w*[a-z]\w*|[A-Z0-9]*)$")
# QGIS 3 flag values, also read through instances (definition.FlagOptional).
OLD_QGIS_FLAG = re.compile(r"^Flag[A-Z]\w*$")
REMOVED_NAMES = {
    "QRegExp": "QRegExp was removed in Qt6: use QRegularExpression",
    "QRegExpValidator": "QRegExpValidator was removed in Qt6: use QRegularExpressionValidator",
    "QDesktopWidget": "QDesktopWidget was removed in Qt6: use QScreen (QGuiApplication.screens())",
    "qApp": "qApp was removed in PyQt6: use QApplication.instance()",
    "QMatrix": "QMatrix was removed in Qt6: use QTransform",
    "QGLWidget": "QGLWidget was removed in Qt6: use QOpenGLWidget",
    "QtWebKit": "QtWebKit does not exist in Qt6",
    "QtWebKitWidgets": "QtWebKitWidgets does not exist in Qt6",
}
REMOVED_METHODS = {
    "exec_": "exec_() does not exist in PyQt6: call exec()",
    "print_": "print_() does not exist in PyQt6: call print()",
    "byteCount": "QImage.byteCount() was removed in Qt6: use sizeInBytes()",
    "setMargin": "QLayout.setMargin() was removed in Qt6: use setContentsMargins()",
    "desktop": "QApplication.desktop() was removed in Qt6: use QGuiApplication.screens()",
}


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """Ids of every node inside a type annotation (``QMessageBox.StandardButton`` names a type there)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            annotations = [a.annotation for a in args.posonlyargs + args.args + args.kwonlyargs]
            annotations += [a.annotation for a in (args.vararg, args.kwarg) if a is not None]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        for annotation in annotations:
            if annotation is not None:
                found.update(id(n) for n in ast.walk(annotation))
    return found


def check_source(source: str, name: str = "<source>") -> list[str]:
    """Every Qt5-only use in ``source``, as ``name:line: message`` (empty when it is Qt6-ready)."""
    tree = ast.parse(source, filename=name)
    in_annotation = _annotation_nodes(tree)
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, str]] = []

    def report(node: ast.AST, message: str) -> None:
        found.append((node.lineno, message))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(m.split(".")[0] == "PyQt5" for m in modules):
                report(node, "import Qt through qgis.PyQt, not PyQt5")
            for alias in node.names:
                if alias.name in REMOVED_NAMES:
                    report(node, REMOVED_NAMES[alias.name])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("exec_", "print_"):
            report(node, REMOVED_METHODS[node.name])
        elif isinstance(node, ast.Call) and _add_action_with_slot(node):
            report(node, "addAction(..., slot) is gone in PyQt6: connect the returned action's triggered signal")
        elif isinstance(node, ast.Name) and node.id in REMOVED_NAMES:
            report(node, REMOVED_NAMES[node.id])
        elif isinstance(node, ast.Attribute):
            if node.attr in REMOVED_METHODS and (node.attr != "desktop" or _is_qapplication(node.value)):
                report(node, REMOVED_METHODS[node.attr])
            elif _unscoped_enum(node, parents) and id(node) not in in_annotation:
                report(node, f"unscoped enum {ast.unparse(node)}: name its enum type (Qt6 scoped enums)")
            elif OLD_QGIS_FLAG.match(node.attr) and not _scoped_parent(node.value):
                report(node, f"QGIS 3 flag {ast.unparse(node)}: use processing/compat.py (gone in QGIS 4)")
    return [f"{name}:{line}: {message}" for line, message in sorted(found)]


def _add_action_with_slot(node: ast.Call) -> bool:
    """``x.addAction(text, slot)``, ``x.addAction(icon, text, slot)``: a receiver among the arguments."""
    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "addAction"):
        return False
    args = node.args
    text_second = len(args) == 2 and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str)
    return len(args) >= 3 or (len(args) == 2 and not text_second) or bool(node.keywords)


def _is_qapplication(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("QApplication", "QgsApplication")


def _class_name(node: ast.AST) -> str | None:
    """``Qt`` for ``Qt`` and for ``QtCore.Qt``: the Qt/QGIS class an expression names, if any."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return name if name and QT_CLASS.match(name) else None


def _scoped_parent(node: ast.AST) -> bool:
    """True for ``QClass.Enum`` (so ``QClass.Enum.FlagX`` is a scoped value)."""
    return isinstance(node, ast.Attribute) and _class_name(node.value) is not None


def _unscoped_enum(node: ast.Attribute, parents: dict[int, ast.AST]) -> bool:
    """``QClass.Value``: a Qt/QGIS class followed by a member that is not itself scoped further."""
    if _class_name(node.value) is None or not ENUM_VALUE.match(node.attr):
        return False
    parent = parents.get(id(node))
    return not (isinstance(parent, ast.Attribute) and parent.value is node)


def python_files(paths: list[str]) -> Iterator[Path]:
    """The ``.py`` files under ``paths`` (relative to the repository root), sorted."""
    for entry in paths:
        path = (ROOT / entry).resolve()
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        elif path.suffix == ".py":
            yield path


def check_paths(paths: list[str]) -> list[str]:
    """Findings for every file under ``paths``; files still waiting for migration skip the enum rule."""
    found = []
    for path in python_files(paths):
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        found += check_source(path.read_text(encoding="utf-8"), rel)
    return found


def main(argv: list[str]) -> int:
    found = check_paths(argv or list(DEFAULT_PATHS))
    for line in found:
        sys.stderr.write(line + "\n")
    if found:
        sys.stderr.write(f"{len(found)} Qt5-only use(s): QGIS 4 (Qt6) would fail on them\n")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
