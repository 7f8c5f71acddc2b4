"""Offscreen map previews for the report, rendered by QGIS's own map renderer.

Works without a window (``qgis_process``, tests with ``QT_QPA_PLATFORM=offscreen``) and
from the Processing worker thread: layers are created here, never added to a project.
"""

from __future__ import annotations

from qgis.core import (
    QgsContrastEnhancement,
    QgsCoordinateReferenceSystem,
    QgsMapLayer,
    QgsMapRendererCustomPainterJob,
    QgsMapSettings,
    QgsMultiBandColorRenderer,
    QgsRasterLayer,
    QgsRectangle,
    QgsSingleBandGrayRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice, QSize
from qgis.PyQt.QtGui import QColor, QImage, QPainter

from ..core.products import MapProduct
from ..core.report import display_bands

PREVIEW_WIDTH_PX = 560
MAX_HEIGHT_PX = 700


def _stretched(layer: QgsRasterLayer, bands: tuple[int, ...], extent: QgsRectangle) -> None:
    """Show ``bands`` (RGB or one grey band) with a 2-98 % cumulative-cut stretch over the mapped extent."""
    provider = layer.dataProvider()
    enhancements = []
    for band in bands:
        enhancement = QgsContrastEnhancement(provider.dataType(band))
        low, high = provider.cumulativeCut(band, 0.02, 0.98, extent, 250000)
        enhancement.setMinimumValue(low)
        enhancement.setMaximumValue(high if high > low else low + 1)
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        enhancements.append(enhancement)
    if len(bands) == 1:
        grey = QgsSingleBandGrayRenderer(provider, bands[0])
        grey.setContrastEnhancement(enhancements[0])
        layer.setRenderer(grey)
        return
    renderer = QgsMultiBandColorRenderer(provider, *bands)
    renderer.setRedContrastEnhancement(enhancements[0])
    renderer.setGreenContrastEnhancement(enhancements[1])
    renderer.setBlueContrastEnhancement(enhancements[2])
    layer.setRenderer(renderer)


def _png(layers: list[QgsMapLayer], extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> bytes:
    ratio = extent.height() / extent.width() if extent.width() > 0 else 1.0
    width = PREVIEW_WIDTH_PX
    height = max(60, min(MAX_HEIGHT_PX, round(width * ratio)))
    if round(width * ratio) > MAX_HEIGHT_PX:
        width = max(60, round(MAX_HEIGHT_PX / ratio))
    settings = QgsMapSettings()
    settings.setDestinationCrs(crs)
    settings.setOutputSize(QSize(width, height))
    settings.setExtent(extent)
    settings.setLayers(layers)
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    image = QImage(QSize(width, height), QImage.Format_ARGB32_Premultiplied)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    job = QgsMapRendererCustomPainterJob(settings, painter)
    job.renderSynchronously()
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def render_previews(product: MapProduct, polygons: str | None) -> list[tuple[str, bytes]]:
    """PNG previews of the first two inputs (before, after) and of the result, on the result's extent."""
    result = QgsRasterLayer(product.class_raster, "result", "gdal")
    if not result.isValid():
        return []
    extent, crs = result.extent(), result.crs()
    images: list[tuple[str, bytes]] = []
    for label, path in product.inputs[:2]:
        layer = QgsRasterLayer(path, label, "gdal")
        if not layer.isValid():
            continue
        bands = display_bands(path)
        if bands is not None:
            _stretched(layer, bands, extent)
        images.append((label, _png([layer], extent, crs)))
    layers: list[QgsMapLayer] = [result]
    outline = None
    if polygons:
        outline = QgsVectorLayer(polygons, "polygons", "ogr")
        if outline.isValid():
            layers.insert(0, outline)
    caption = f"Result: {product.title}" + (" with polygons" if outline is not None and outline.isValid() else "")
    images.append((caption, _png(layers, extent, crs)))
    return images
