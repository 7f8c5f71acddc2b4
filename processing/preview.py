"""The report's map images, rendered by QGIS's own map renderer.

Works without a window (``qgis_process``, tests with ``QT_QPA_PLATFORM=offscreen``) and
from the Processing worker thread: layers are created here, never added to a project (a
basemap the user chose is copied from its source and style first).

Only the drawing happens here: the frame, the furniture (scale bar, north arrow, ticks), the
bands of each preview, their stretch and the captions are decided in
:mod:`changelens.core.outputs.report_maps`, which the command line's numpy renderer follows too.
"""

from __future__ import annotations

import tempfile
from typing import Any, Sequence

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsContrastEnhancement,
    QgsCoordinateReferenceSystem,
    QgsMapLayer,
    QgsMapRendererCustomPainterJob,
    QgsMapSettings,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsRasterLayer,
    QgsRectangle,
    QgsSingleBandGrayRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice, QSize
from qgis.PyQt.QtGui import QColor, QImage, QPainter
from qgis.PyQt.QtXml import QDomDocument

from ..core.gdal_state import no_side_cars
from ..core.outputs.products import MapProduct
from ..core.outputs.report_facts import preview_source
from ..core.outputs.report_maps import BASEMAP_OPACITY, PREVIEW_WIDTH_PX, RESULT_WIDTH_PX, Frame, Preview
from .compat import MAP_ANTIALIASING, STRETCH_TO_MIN_MAX, renderer_band


def copy_layer(layer: QgsMapLayer | None) -> QgsMapLayer | None:
    """A new layer on ``layer``'s source with its style, safe to render from this thread (None if unusable)."""
    with no_side_cars():
        return _copy_layer(layer)


def _copy_layer(layer: QgsMapLayer | None) -> QgsMapLayer | None:
    if layer is None or not layer.isValid():
        return None
    if isinstance(layer, QgsRasterLayer):
        copy: QgsMapLayer = QgsRasterLayer(layer.source(), layer.name(), layer.providerType())
    elif isinstance(layer, QgsVectorLayer):
        copy = QgsVectorLayer(layer.source(), layer.name(), layer.providerType())
    else:
        return layer.clone()
    if not copy.isValid():
        return None
    style = QDomDocument()
    if not layer.exportNamedStyle(style):
        copy.importNamedStyle(style)
    return copy


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


def _png(layers: list[QgsMapLayer], frame: Frame, width: int) -> bytes:
    width, height = frame.size(width)
    xmin, ymin, xmax, ymax = frame.bounds
    extent = QgsRectangle(xmin, ymin, xmax, ymax)
    crs = QgsCoordinateReferenceSystem.fromWkt(frame.crs_wkt) if frame.crs_wkt else QgsCoordinateReferenceSystem()
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


def _over_basemap(result: QgsRasterLayer, background: Sequence[int]) -> None:
    """Background classes transparent and the rest slightly see-through, so the basemap shows."""
    renderer = result.renderer()
    if isinstance(renderer, QgsPalettedRasterRenderer):
        classes = []
        for item in renderer.classes():
            if item.value in background:
                color = QColor(item.color)
                color.setAlpha(0)
                item.color = color
            classes.append(item)
        palette = QgsPalettedRasterRenderer(result.dataProvider(), renderer_band(renderer), classes)
        result.setRenderer(palette)
    result.renderer().setOpacity(BASEMAP_OPACITY)


def _outlines_only(layer: QgsVectorLayer) -> None:
    """The polygons' stored style without its fills (each class keeps its outline)."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsCategorizedSymbolRenderer):
        return
    for index, category in enumerate(renderer.categories()):
        symbol = category.symbol().clone()
        for i in range(symbol.symbolLayerCount()):
            fill = symbol.symbolLayer(i)
            if hasattr(fill, "setFillColor"):
                colour = QColor(fill.fillColor())
                colour.setAlpha(0)
                fill.setFillColor(colour)
        renderer.updateCategorySymbol(index, symbol)


class QgisRenderer:
    """Draws the report's images with QGIS (see :class:`changelens.core.outputs.report_maps.MapRenderer`)."""

    def result_png(
        self, product: MapProduct, polygons: str | None, basemap: QgsMapLayer | None, frame: Frame
    ) -> bytes | None:
        """The class raster in its style, ``polygons`` outlined, over ``basemap``."""
        with no_side_cars():
            result = QgsRasterLayer(product.class_raster, "result", "gdal")
            if not result.isValid():
                return None
            layers: list[QgsMapLayer] = [result]
            outline = QgsVectorLayer(polygons, "polygons", "ogr") if polygons else None
            if outline is not None and outline.isValid():
                layers.insert(0, outline)
            if basemap is not None:
                _over_basemap(result, [c.value for c in product.scheme.classes if c.background])
                if outline is not None and outline.isValid():
                    _outlines_only(outline)  # the polygons' fills would hide the basemap
                layers.append(basemap)
            return _png(layers, frame, RESULT_WIDTH_PX)

    def preview_pngs(self, previews: Sequence[Preview], frame: Frame) -> list[bytes | None]:
        """Each input in its chosen bands and limits, read through a VRT view in a folder of its own.

        The layers live only inside this method, so GDAL closes the views (and writes any statistics
        it keeps in them) before the folder goes: a layer outliving the folder made GDAL report
        "Failed to open .../input1.vrt to write" when it was finally closed.
        """
        out: list[bytes | None] = []
        layer = None
        with no_side_cars(), tempfile.TemporaryDirectory(prefix="changelens-preview-") as folder:
            for i, preview in enumerate(previews):
                view = preview_source(preview.path, folder, f"input{i}")
                layer = QgsRasterLayer(view, preview.label, "gdal") if view else None
                if layer is None or not layer.isValid():
                    out.append(None)
                    continue
                _stretched(layer, preview.bands, list(preview.limits))
                out.append(_png([layer], frame, PREVIEW_WIDTH_PX))
            layer = None  # closes the last view before its folder goes
        return out

    def basemap_name(self, basemap: Any) -> str:
        """The layer's name, else its source."""
        return basemap.name() or basemap.source()


QGIS_RENDERER = QgisRenderer()
