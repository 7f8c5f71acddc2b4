"""The demo's QGIS project (.qgz, every output styled) and a PNG rendering of its layers as panels."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsContrastEnhancement,
    QgsHillshadeRenderer,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsMultiBandColorRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

PANEL_PX = 330
TITLE_PX = 26
LEGEND_PX = 44
COLUMNS = 4


def _true_colour(path: str, name: str) -> QgsRasterLayer:
    """B4/B3/B2 with one fixed reflectance stretch (0-0.22) so colours look natural."""
    layer = QgsRasterLayer(path, name)
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), 3, 2, 1)
    for band, setter in (
        (3, renderer.setRedContrastEnhancement),
        (2, renderer.setGreenContrastEnhancement),
        (1, renderer.setBlueContrastEnhancement),
    ):
        stretch = QgsContrastEnhancement(layer.dataProvider().dataType(band))
        stretch.setContrastEnhancementAlgorithm(
            QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum
        )
        stretch.setMinimumValue(0.0)
        stretch.setMaximumValue(2200.0)  # reflectance 0-0.22: the same natural stretch on every band
        setter(stretch)
    layer.setRenderer(renderer)
    return layer


def _hillshade(path: str) -> QgsRasterLayer:
    layer = QgsRasterLayer(path, "Terrain (hillshade)")
    renderer = QgsHillshadeRenderer(layer.dataProvider(), 1, 315.0, 45.0)
    renderer.setZFactor(3.0)  # exaggerate the gentle demo relief
    layer.setRenderer(renderer)
    return layer


def _render(layers: list[QgsRasterLayer], extent) -> QImage:  # noqa: ANN001 - QgsRectangle
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[-1].crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(PANEL_PX, PANEL_PX))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def _legend(painter: QPainter, layer: QgsRasterLayer, x: int, y: int) -> None:
    """Colour swatches and class names of a paletted layer, wrapped over the panel width."""
    renderer = layer.renderer()
    if renderer is None or renderer.type() != "paletted":
        return
    metrics = painter.fontMetrics()
    cx, cy = x + 6, y + 4
    for item in renderer.classes():
        width = 14 + metrics.horizontalAdvance(item.label) + 10
        if cx + width > x + PANEL_PX:
            cx, cy = x + 6, cy + 16
        painter.fillRect(cx, cy + 2, 10, 10, item.color)
        painter.setPen(QColor("black"))
        painter.drawText(cx + 14, cy + 11, item.label)
        cx += width


def build_project(inputs: dict[str, str], results: list[tuple[str, str]], out: Path) -> tuple[Path, Path]:
    """Save ``changelens-demo.qgz`` and ``changelens-demo.png`` in ``out``."""
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    project.clear()
    before = _true_colour(inputs["s2_before"], "Sentinel-2 before (true colour)")
    after = _true_colour(inputs["s2_after"], "Sentinel-2 after (true colour)")
    hill = _hillshade(inputs["dem"])
    outputs = [QgsRasterLayer(path, title) for title, path in results]  # styles come from the .qml sidecars
    polygons = [
        QgsVectorLayer(str(path), f"{path.stem.replace('_', ' ')}", "ogr")
        for path in sorted(out.glob("*_polygons.gpkg"))
    ]  # styles come from each GeoPackage's layer_styles table
    for layer in [hill, before, after, *outputs, *polygons]:
        if not layer.isValid():
            raise SystemExit(f"Could not load {layer.source()}")
        project.addMapLayer(layer)
    project.setCrs(after.crs())
    qgz = out / "changelens-demo.qgz"
    project.write(str(qgz))
    panels = [("Before (Sentinel-2-like)", [before]), ("After (cloud at lower left)", [after]), ("Terrain", [hill])]
    panels += [(layer.name(), [layer]) for layer in outputs]
    rows = -(-len(panels) // COLUMNS)
    cell_h = TITLE_PX + PANEL_PX + LEGEND_PX
    sheet = QImage(COLUMNS * PANEL_PX, rows * cell_h, QImage.Format.Format_ARGB32)
    sheet.fill(QColor("white"))
    painter = QPainter(sheet)
    for i, (title, layers) in enumerate(panels):
        x, y = (i % COLUMNS) * PANEL_PX, (i // COLUMNS) * cell_h
        painter.setFont(QFont("DejaVu Sans", 10))
        painter.setPen(QColor("black"))
        painter.drawText(QRectF(x, y, PANEL_PX, TITLE_PX), Qt.AlignmentFlag.AlignCenter, title)
        painter.drawImage(x, y + TITLE_PX, _render(layers, after.extent()))
        painter.setFont(QFont("DejaVu Sans", 7))
        _legend(painter, layers[-1], x, y + TITLE_PX + PANEL_PX)
    painter.end()
    png = out / "changelens-demo.png"
    sheet.save(str(png))
    project.clear()
    return qgz, png
