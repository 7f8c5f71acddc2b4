"""Offscreen map previews for the report, rendered by QGIS's own map renderer.

Works without a window (``qgis_process``, tests with ``QT_QPA_PLATFORM=offscreen``) and
from the Processing worker thread: layers are created here, never added to a project.
"""

from __future__ import annotations

import tempfile

from qgis.core import (
    QgsContrastEnhancement,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
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

from ..core.io.grid import grid_of
from ..core.io.raster import open_raster
from ..core.outputs.preview import MAX_HEIGHT_PX, MAX_OUTLINED_POLYGONS, PREVIEW_WIDTH_PX, extent_text
from ..core.outputs.products import MapProduct
from ..core.outputs.report import display_bands, preview_source
from .compat import MAP_ANTIALIASING, STRETCH_TO_MIN_MAX


def _cut(layer: QgsRasterLayer, band: int, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> tuple:
    """The 2-98 % cumulative cut of ``band`` over ``extent`` (given in ``crs``)."""
    if layer.crs() != crs:
        transform = QgsCoordinateTransform(crs, layer.crs(), QgsCoordinateTransformContext())
        extent = transform.transformBoundingBox(extent)
    return layer.dataProvider().cumulativeCut(band, 0.02, 0.98, extent, 250000)


def _stretched(layer: QgsRasterLayer, bands: tuple[int, ...], limits: list[tuple[float, float]]) -> None:
    """Show ``bands`` (RGB or one grey band) stretched linearly between ``limits`` (one pair per band)."""
    provider = layer.dataProvider()
    enhancements = []
    for band, (low, high) in zip(bands, limits):
        enhancement = QgsContrastEnhancement(provider.dataType(band))
        enhancement.setMinimumValue(low)
        enhancement.setMaximumValue(high if high > low else low + 1)
        enhancement.setContrastEnhancementAlgorithm(STRETCH_TO_MIN_MAX)
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


def _style_inputs(
    inputs: list[tuple[str, QgsRasterLayer]], extent: QgsRectangle, crs: QgsCoordinateReferenceSystem
) -> None:
    """Stretch before and after alike (per band position), so that what changed looks changed."""
    layers = [layer for _path, layer in inputs]
    chosen = [display_bands(path) or (1,) for path, _layer in inputs]
    if len({len(bands) for bands in chosen}) != 1:
        chosen = [(bands[0],) for bands in chosen]
    cuts = [[_cut(layer, band, extent, crs) for band in bands] for layer, bands in zip(layers, chosen)]
    highs = [max(abs(c[i][1]) for c in cuts) / max(min(abs(c[i][1]) for c in cuts), 1e-12) for i in range(len(cuts[0]))]
    if max(highs) > 4:  # different value scales (e.g. reflectance x 10000 and 8-bit TCI): stretch each alone
        for layer, bands, own in zip(layers, chosen, cuts):
            _stretched(layer, bands, own)
        return
    limits = [(min(c[i][0] for c in cuts), max(c[i][1] for c in cuts)) for i in range(len(chosen[0]))]
    for layer, bands in zip(layers, chosen):
        _stretched(layer, bands, limits)


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
    settings.setFlag(MAP_ANTIALIASING, True)
    image = QImage(QSize(width, height), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    job = QgsMapRendererCustomPainterJob(settings, painter)
    job.renderSynchronously()
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def _input_images(
    inputs: list[tuple[str, str]], folder: str, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem
) -> list[tuple[str, bytes]]:
    """PNG previews of ``(label, path)`` inputs, read through VRT views written in ``folder``.

    The layers live only inside this function, so GDAL closes the views (and writes any statistics
    it keeps in them) before the caller removes ``folder``: a layer outliving the folder made GDAL
    report "Failed to open .../input1.vrt to write" when it was finally closed.
    """
    opened = []
    for i, (label, path) in enumerate(inputs):
        view = preview_source(path, folder, f"input{i}")
        layer = QgsRasterLayer(view, label, "gdal") if view else None
        if layer is not None and layer.isValid():
            opened.append((label, path, layer))
    if opened:
        _style_inputs([(path, layer) for _label, path, layer in opened], extent, crs)
    return [(label, _png([layer], extent, crs)) for label, _path, layer in opened]


def render_previews(product: MapProduct, polygons: str | None, polygon_count: int = 0) -> list[tuple[str, bytes]]:
    """PNG previews of the first two inputs (before, after) and of the result, on the result's extent."""
    result = QgsRasterLayer(product.class_raster, "result", "gdal")
    if not result.isValid():
        return []
    extent, crs = result.extent(), result.crs()
    with tempfile.TemporaryDirectory(prefix="changelens-preview-") as folder:
        images = _input_images(product.inputs[:2], folder, extent, crs)
    layers: list[QgsMapLayer] = [result]
    outline = None
    if polygons and polygon_count <= MAX_OUTLINED_POLYGONS:
        outline = QgsVectorLayer(polygons, "polygons", "ogr")
        if outline.isValid():
            layers.insert(0, outline)
    caption = f"Result: {product.title}" + (" with polygons" if outline is not None and outline.isValid() else "")
    caption += f" · {extent_text(grid_of(open_raster(product.class_raster)))}"
    images.append((caption, _png(layers, extent, crs)))
    return images
