"""The plugin loads headless (qgis_process style) and with an iface, and unloads cleanly."""

from __future__ import annotations

import changelens
from qgis.core import QgsApplication


def test_class_factory_and_init_processing_without_iface(qgis_app) -> None:  # noqa: ANN001
    registry = QgsApplication.processingRegistry()
    before = registry.providerById("changelens")
    plugin = changelens.classFactory(None)
    if before is not None:
        registry.removeProvider(before)
    plugin.initProcessing()
    provider = registry.providerById("changelens")
    assert provider is not None and provider.name() == "ChangeLens"
    assert registry.algorithmById("changelens:burnseverity") is not None
    plugin.unload()
    assert registry.providerById("changelens") is None


class RecordingIface:
    """Wraps pytest-qgis's iface and records what the plugin adds to the toolbar and menus."""

    def __init__(self, iface) -> None:  # noqa: ANN001
        self._iface = iface
        self.toolbar: list = []
        self.menus: list[tuple[str, object]] = []
        self.docks: list = []

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._iface, name)

    def addToolBarIcon(self, action) -> None:  # noqa: ANN001, N802
        self.toolbar.append(action)

    def removeToolBarIcon(self, action) -> None:  # noqa: ANN001, N802
        self.toolbar.remove(action)

    def addDockWidget(self, area, dock) -> None:  # noqa: ANN001, N802
        self.docks.append(dock)

    def removeDockWidget(self, dock) -> None:  # noqa: ANN001, N802
        self.docks.remove(dock)

    def addPluginToRasterMenu(self, menu: str, action) -> None:  # noqa: ANN001, N802
        self.menus.append((menu, action))

    def removePluginRasterMenu(self, menu: str, action) -> None:  # noqa: ANN001, N802
        self.menus.remove((menu, action))


def test_init_gui_adds_button_and_menu_and_unload_removes_them(qgis_iface, qgis_app) -> None:  # noqa: ANN001
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("changelens")
    if existing is not None:
        registry.removeProvider(existing)
    iface = RecordingIface(qgis_iface)
    plugin = changelens.classFactory(iface)
    plugin.initGui()
    assert registry.providerById("changelens") is not None
    assert len(iface.toolbar) == 1 and iface.menus[0] == ("&ChangeLens", iface.toolbar[0])
    assert [a.text() for _m, a in iface.menus] == ["ChangeLens", "Model manager…", "Dependency doctor…"]
    action = iface.toolbar[0]
    assert action.text() == "ChangeLens" and not action.icon().isNull()
    action.trigger()
    assert len(iface.docks) == 1 and not iface.docks[0].isHidden() and action.isChecked()
    dock = iface.docks[0]
    action.trigger()
    assert dock.isHidden() and not action.isChecked()
    action.trigger()
    assert iface.docks == [dock] and not dock.isHidden()
    plugin.unload()
    assert iface.toolbar == [] and iface.menus == [] and iface.docks == []
    assert plugin.dock is None
    assert plugin.actions == [] and plugin.provider is None
    assert registry.providerById("changelens") is None


def _fresh_plugin(iface) -> object:  # noqa: ANN001
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("changelens")
    if existing is not None:
        registry.removeProvider(existing)
    return changelens.classFactory(iface)


def test_unload_when_qgis_already_destroyed_the_registry(qgis_app, monkeypatch) -> None:  # noqa: ANN001
    """At exit QGIS 3.44 unloads providers from the registry's destructor, when processingRegistry() is None."""
    plugin = _fresh_plugin(None)
    plugin.initProcessing()
    provider = plugin.provider
    monkeypatch.setattr(QgsApplication, "processingRegistry", staticmethod(lambda: None))
    provider.unload()
    plugin.unload()
    assert plugin.provider is None
    monkeypatch.undo()
    QgsApplication.processingRegistry().removeProvider(provider)
    assert QgsApplication.processingRegistry().providerById("changelens") is None


def test_unload_after_qt_deleted_the_dock_and_actions(qgis_iface, qgis_app) -> None:  # noqa: ANN001
    """Closing QGIS may delete the main window's children before plugins unload."""
    from qgis.PyQt import sip

    iface = RecordingIface(qgis_iface)
    plugin = _fresh_plugin(iface)
    plugin.initGui()
    iface.toolbar[0].trigger()
    sip.delete(iface.docks[0])
    for action in list(plugin.actions):
        sip.delete(action)
    plugin.unload()
    assert plugin.dock is None and plugin.actions == [] and plugin.provider is None
    assert QgsApplication.processingRegistry().providerById("changelens") is None
