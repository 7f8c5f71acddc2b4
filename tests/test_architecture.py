"""The layers depend one way (see docs/architecture.md): ui -> processing -> core, cli -> core, and inside core
basics -> io -> outputs -> engine -> models / methods -> pipeline; no import cycle anywhere in core.

Read from the source with ``ast`` (lazy imports inside functions count too), so an arrow that
breaks the rule fails here before it confuses anyone.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASICS = {"errors", "progress", "classes", "gdal_state"}
# What each part of core may import (besides itself and the basics).
ALLOWED = {
    "basics": set(),
    "io": set(),
    "outputs": {"io"},
    "engine": {"io", "outputs"},
    "models": {"io", "outputs", "engine"},
    "methods": {"io", "outputs", "engine"},
    "top": {"io", "outputs", "engine", "models", "methods", "top"},
}


def _modules(folder: str) -> dict[str, Path]:
    base = ROOT / folder
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in base.rglob("*.py")
    }


def _imports(module: str, path: Path, known: set[str] | None = None) -> set[str]:
    """Absolute dotted names (from the repository root) of every module ``module`` imports.

    ``from package import submodule`` counts as importing the submodule only (when ``known``
    lists the modules), not the package's ``__init__``.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {  # ``if TYPE_CHECKING:`` imports never run
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: max(len(parts) - node.level + 1, 0)])
                name = ".".join(p for p in (base, node.module) if p)
                submodules = {f"{name}.{alias.name}" for alias in node.names}
                found.update(submodules)
                if known is None or not submodules <= known:
                    found.add(name)
            else:
                found.add(node.module or "")
    return found


def _part(module: str) -> str:
    """``basics``, ``io``, ``outputs``, ``engine``, ``models``, ``methods`` or ``top`` for a core module."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"
    if parts[1] in ALLOWED:
        return parts[1]
    return "basics" if parts[1] in BASICS else "top"


def _core_graph() -> dict[str, set[str]]:
    modules = _modules("core")
    known = set(modules)
    return {m: {i for i in _imports(m, p, known) if i in modules} for m, p in modules.items()}


def test_core_knows_no_qgis_processing_or_ui() -> None:
    for module, path in _modules("core").items():
        for name in _imports(module, path):
            root = name.split(".")[0]
            assert root not in ("qgis", "PyQt5", "PyQt6", "processing", "ui"), f"{module} imports {name}"


def test_cli_imports_core_only() -> None:
    """The command line (``cli/``) runs without QGIS: it imports core, never QGIS, processing or ui."""
    modules = _modules("cli")
    assert modules, "cli/ is missing"
    for module, path in modules.items():
        for name in _imports(module, path):
            root = name.split(".")[0]
            assert root not in ("qgis", "PyQt5", "PyQt6", "processing", "ui"), f"{module} imports {name}"


def test_nothing_imports_the_cli() -> None:
    for folder in ("core", "processing", "ui"):
        for module, path in _modules(folder).items():
            assert not [n for n in _imports(module, path) if n.split(".")[0] == "cli"], module


def test_ui_calls_processing_never_core() -> None:
    for module, path in _modules("ui").items():
        assert not [n for n in _imports(module, path) if n.split(".")[0] == "core"], module


def test_processing_never_imports_ui() -> None:
    for module, path in _modules("processing").items():
        assert not [n for n in _imports(module, path) if n.split(".")[0] == "ui"], module


def test_core_parts_import_only_downwards() -> None:
    for module, imported in _core_graph().items():
        mine = _part(module)
        for name in imported:
            theirs = _part(name)
            if theirs in ("basics", mine):
                continue
            assert theirs in ALLOWED[mine], f"{module} ({mine}) imports {name} ({theirs})"


def test_no_import_cycle_in_core() -> None:
    graph = _core_graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_importing_the_plugin_changes_no_gdal_state() -> None:
    """Loading every module (as QGIS does when it loads the plugin) leaves GDAL's exception mode alone."""
    code = (
        "import importlib, pkgutil, sys; sys.path.insert(0, sys.argv[1]);"
        "from osgeo import gdal, ogr, osr;"
        "import changelens.core as core;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(core.__path__, 'changelens.core.')];"
        "import changelens.processing.provider, changelens.plugin;"
        "print(gdal.GetUseExceptions(), ogr.GetUseExceptions(), osr.GetUseExceptions())"
    )
    done = subprocess.run(
        ["/usr/bin/python3", "-c", code, str(ROOT / ".plugin_path")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-3:] == ["0", "0", "0"], done.stdout


SHAPE_WORDS = re.compile(r"shape|1-D|2-D|\brows\b|bands x|any array|any shape|\[[a-z, ]+\]", re.I)


def _public_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """Module-level functions and methods of module-level classes whose names are public."""
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        found += [n for n in cls.body if isinstance(n, ast.FunctionDef)]
    return [n for n in found if not n.name.startswith("_")]


def test_core_functions_on_arrays_state_their_shapes() -> None:
    """Every public core function that takes or returns arrays says what shape they have."""
    missing = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        for node in _public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            signature = ast.unparse(node.args) + (ast.unparse(node.returns) if node.returns else "")
            if "ndarray" in signature and not SHAPE_WORDS.search(ast.get_docstring(node) or ""):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not missing, "state the array shapes in: " + ", ".join(missing)
