"""Screenshots of the ChangeLens panel and of QGIS with a result loaded (for reviews and the README).

Desktop (real QGIS under Xvfb; the plugin is loaded from this checkout)::

    CHANGELENS_SHOTS=build/screenshots xvfb-run -a -s "-screen 0 1600x1000x24" \
        qgis --noplugins --nologo --profiles-path build/qgis-profile --code tools/panel_screenshots.py

Offscreen (no desktop; panel grab plus a map-canvas render)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/panel_screenshots.py

Writes ``panel.png`` and ``qgis.png`` (desktop) or ``map.png``, ``doctor.png`` and ``models.png``
(offscreen) into ``CHANGELENS_SHOTS``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# QGIS's --code exec()s the file without __file__: run it from the repository root.
ROOT = Path(__file__).resolve().parent.parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("CHANGELENS_SHOTS", ROOT / "build" / "screenshots")).resolve()
LINK = ROOT / ".plugin_path"


def _importable() -> None:
    """Make this checkout importable as the ``changelens`` package."""
    LINK.mkdir(exist_ok=True)
    if not (LINK / "changelens").exists():
        (LINK / "changelens").symlink_to(ROOT, target_is_directory=True)
    for entry in ("", ".", str(ROOT)):
        while entry in sys.path:
            sys.path.remove(entry)
    sys.path.insert(0, str(LINK))


def demo_pair(folder: Path) -> tuple[str, str]:
    """A seeded 240 x 240 Sentinel-2-like before/after pair (B04, B08, B12) with a burn scar."""
    import numpy as np
    from osgeo import gdal, osr

    rng = np.random.default_rng(7)
    size = 240
    y, x = np.mgrid[0:size, 0:size]
    fields = ((x // 40 + y // 60) % 3).astype(np.float32)
    texture = rng.normal(0, 120, (size, size)).astype(np.float32)
    red = 600 + 150 * fields + texture
    nir = 3200 + 500 * fields + 2 * texture
    swir = 1300 + 200 * fields + texture
    scar = ((x - 130) / 70.0) ** 2 + ((y - 110) / 45.0) ** 2 < 1
    core = ((x - 140) / 35.0) ** 2 + ((y - 105) / 22.0) ** 2 < 1
    after = [red.copy(), nir.copy(), swir.copy()]
    after[0][scar] += 300
    after[1][scar] -= 1500
    after[2][scar] += 900
    after[1][core] -= 900
    after[2][core] += 600
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    paths = []
    for name, bands in (("before", [red, nir, swir]), ("after", after)):
        path = str(folder / f"{name}_S2.tif")
        ds = gdal.GetDriverByName("GTiff").Create(path, size, size, 3, gdal.GDT_UInt16)
        ds.SetGeoTransform([500000, 10, 0, 5100000, 0, -10])
        ds.SetProjection(srs.ExportToWkt())
        for index, (label, data) in enumerate(zip(("B04", "B08", "B12"), bands), start=1):
            band = ds.GetRasterBand(index)
            band.WriteArray(np.clip(data, 1, 10000).astype(np.uint16))
            band.SetDescription(label)
        ds = None
        paths.append(path)
    return paths[0], paths[1]


def _add_inputs(project, before: str, after: str):  # noqa: ANN001, ANN202
    """Both images in SWIR2/NIR/red false colour (burn scars show dark red), stretched 2-98 %."""
    from qgis.core import QgsContrastEnhancement, QgsMultiBandColorRenderer, QgsRasterLayer, QgsRasterMinMaxOrigin

    layers = []
    for path, name in ((before, "Sentinel-2 before fire"), (after, "Sentinel-2 after fire")):
        layer = QgsRasterLayer(path, name)
        layer.setRenderer(QgsMultiBandColorRenderer(layer.dataProvider(), 3, 2, 1))
        layer.setContrastEnhancement(
            QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum,
            QgsRasterMinMaxOrigin.Limits.CumulativeCut,
        )
        project.addMapLayer(layer)
        layers.append(layer)
    return layers


def _wait_then(condition, action, timeout_s: float = 60.0) -> None:  # noqa: ANN001
    """Poll ``condition`` on the event loop; call ``action`` once it holds (or on timeout)."""
    import time

    from qgis.PyQt.QtCore import QTimer

    deadline = time.monotonic() + timeout_s
    timer = QTimer()

    def tick() -> None:
        if condition() or time.monotonic() > deadline:
            timer.stop()
            action()

    timer.timeout.connect(tick)
    timer.start(100)
    _wait_then.timers = [*getattr(_wait_then, "timers", []), timer]


def _drive(panel, before, after, folder: Path, done) -> None:  # noqa: ANN001
    """Map burn severity from the demo layers, save outputs in ``folder``, press Run, then call ``done``."""
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("burn"))
    panel.before_combo.setLayer(before)
    panel.after_combo.setLayer(after)
    panel.folder_radio.setChecked(True)
    panel.folder_widget.setFilePath(str(folder))
    panel.open_url = lambda _url: None
    panel.run_button.click()
    _wait_then(lambda: panel.run is None, done)


def desktop(iface) -> None:  # noqa: ANN001
    """Inside QGIS: load the plugin, open the dock, run, and grab the main window."""
    from qgis.core import QgsProject

    _importable()
    import changelens

    OUT.mkdir(parents=True, exist_ok=True)
    plugin = changelens.classFactory(iface)
    plugin.initGui()
    desktop.plugin = plugin
    before, after = _add_inputs(QgsProject.instance(), *demo_pair(OUT))
    iface.mainWindow().resize(1600, 1000)
    iface.mainWindow().showMaximized()
    plugin.actions[0].trigger()
    panel = plugin.dock.panel
    panel.grab().save(str(OUT / "panel_before_run.png"))

    def finished() -> None:
        iface.mapCanvas().setExtent(before.extent())
        iface.mapCanvas().refreshAllLayers()
        _wait_then(lambda: not iface.mapCanvas().isDrawing(), shoot, 20)

    def shoot() -> None:
        plugin.dock.widget().grab().save(str(OUT / "panel.png"))
        iface.mainWindow().grab().save(str(OUT / "qgis.png"))
        (OUT / "status.txt").write_text(panel.status.text() + "\n")
        plugin.unload()
        os._exit(0)  # QGIS 3.22 can crash in its own teardown under Xvfb; the PNGs are written

    _drive(panel, before, after, OUT, finished)


def offscreen() -> None:
    """Without a desktop: the panel in a window of its own, then the result rendered like the canvas."""
    _importable()
    from qgis.core import QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsProject
    from qgis.PyQt.QtCore import QEventLoop, QSize

    app = QgsApplication([], True)
    offscreen.app = app
    app.initQgis()
    import changelens
    from changelens.ui.panel import ChangeLensPanel

    plugin = changelens.classFactory(None)
    plugin.initProcessing()
    OUT.mkdir(parents=True, exist_ok=True)
    before, after = _add_inputs(QgsProject.instance(), *demo_pair(OUT))
    panel = ChangeLensPanel()
    panel.resize(460, 1000)
    panel.show()
    loop = QEventLoop()

    def shoot() -> None:
        panel.grab().save(str(OUT / "panel.png"))
        settings = QgsMapSettings()
        root = QgsProject.instance().layerTreeRoot()
        settings.setLayers([layer for layer in root.layerOrder() if root.findLayer(layer.id()).isVisible()])
        settings.setDestinationCrs(before.crs())
        settings.setExtent(before.extent())
        settings.setOutputSize(QSize(800, 800))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(str(OUT / "map.png"))
        doctor = panel.open_doctor()
        doctor.grab().save(str(OUT / "doctor.png"))
        models = panel.open_models()
        models.grab().save(str(OUT / "models.png"))
        (OUT / "status.txt").write_text(panel.status.text() + "\n")
        loop.quit()

    _drive(panel, before, after, OUT, shoot)
    loop.exec()
    os._exit(0)  # skip QGIS 3.22's teardown, which can crash with live Python widgets


if "qgis.utils" in sys.modules and getattr(sys.modules["qgis.utils"], "iface", None) is not None:
    desktop(sys.modules["qgis.utils"].iface)
elif __name__ == "__main__":
    offscreen()
