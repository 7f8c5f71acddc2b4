"""Shared fixtures: the plugin importable as ``changelens``, QGIS headless, tiny rasters."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_PATH = ROOT / ".plugin_path"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
settings.register_profile("changelens", deadline=None, max_examples=60)
settings.load_profile("changelens")


def _link_plugin() -> None:
    """Expose the repository as a package named ``changelens`` (the installed plugin's name).

    The repository root itself must not be on ``sys.path``: its ``processing/`` folder
    would shadow QGIS's own ``processing`` package.
    """
    for entry in ("", ".", str(ROOT)):
        while entry in sys.path and (entry != "" or Path.cwd() == ROOT):
            sys.path.remove(entry)
    PLUGIN_PATH.mkdir(exist_ok=True)
    link = PLUGIN_PATH / "changelens"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    if str(PLUGIN_PATH) not in sys.path:
        sys.path.insert(0, str(PLUGIN_PATH))
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    if str(ROOT / "tools") not in sys.path:
        sys.path.append(str(ROOT / "tools"))  # the eval harness (eval.*), read by some tests


_link_plugin()

SHARED_DATA = Path(os.environ.get("CHANGELENS_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder, or skip when a fresh clone has none."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


_plugins: list = []


@pytest.fixture(scope="session")
def qgis_iface(qgis_iface):  # noqa: ANN001, ANN201 - pytest-qgis's fake QgisInterface, completed
    """pytest-qgis's fake ``iface`` with a real layer tree view of the project.

    Its ``layerTreeView()`` is a MagicMock, which Processing on QGIS 3.44 passes to C++
    (``QgsProcessingGuiUtils.addResultLayers``) when a desktop run loads its results.
    """
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))
    qgis_iface.layerTreeView = lambda: view
    return qgis_iface


@pytest.fixture()
def provider(qgis_app, qgis_processing):  # noqa: ANN001, ANN201 - pytest-qgis fixtures
    """The ChangeLens provider in the Processing registry, registered as ``initProcessing`` does."""
    from changelens.plugin import ChangeLensPlugin
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    if registry.providerById("changelens") is None:
        plugin = ChangeLensPlugin(None)
        plugin.initProcessing()
        _plugins.append(plugin)  # keep the Python side alive for the session
    return registry.providerById("changelens")


@pytest.fixture(scope="session")
def qgis_process_env(tmp_path_factory):  # noqa: ANN001, ANN201
    """An isolated qgis_process profile with ChangeLens enabled from the working tree."""
    from qgis_process_runner import enable_plugin, environment

    env = environment(tmp_path_factory.mktemp("qgis_profile"), PLUGIN_PATH)
    enable_plugin(env)
    return env


@pytest.fixture(autouse=True)
def _own_home(tmp_path_factory, monkeypatch) -> None:  # noqa: ANN001
    """A home folder per test: the panel's default output folder (``~/ChangeLens``) stays out of the real one."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
