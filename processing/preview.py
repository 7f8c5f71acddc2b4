"""Offscreen maps for the report, rendered by QGIS's own map renderer.

Works without a window (``qgis_process``, tests with ``QT_QPA_PLATFORM=offscreen``) and
from the Processing worker thread: layers are created here, never added to a project (a
basemap the user chose is copied from its source and style first).

The result map is page-wide (:data:`RESULT_WIDTH_PX`, at least 1000 px) with coordinate ticks,
a scale bar and a north arrow (:mod:`.map_furniture`); before/after previews are true colour
from the bands found (:func:`changelens.core.outputs.report_facts.display_bands`).
"""

from __future__ import annotations

import contextlib
import tempfile
from typing import Iterator, Mapping, Sequence

from osgeo import gdal
from qgis.core import (
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

from ..core.outputs.products import MapProduct
from ..core.outputs.report_facts import ImageFacts, band_cut, band_labels, display_bands, preview_source
from ..core.outputs.report_svg import MapFigure
from .compat import MAP_ANTIALIASING, STRETCH_TO_MIN_MAX
from .map_furniture import coordinate_ticks, north_angle, scale_bar

RESULT_WIDTH_PX = 1600  # the result map spans the page; the report shows it at least 1000 px wide
PREVIEW_WIDTH_PX = 760
MAX_ASPECT = 0.75  # taller areas get margins left and right, so the result map keeps its full width
MIN_ASPECT = 0.35
MARGINS = (56, 14, 16, 50)  # left, top, right, bottom around the result map (tick labels)
MAX_OUTLINED_POLYGONS = 20000  # beyond this, outlines blur into noise at preview size and take long to draw
BASEMAP_OPACITY = 0.75


@contextlib.contextmanager
def read_only_sources() -> Iterator[None]:
    """GDAL's side-car files (``.aux.xml``) off in this thread: QGIS computes statistics when it loads a
    raster layer, and GDAL would store them beside the user's file, even when read through a VRT."""
    before = gdal.GetThreadLocalConfigOption("GDAL_PAM_ENABLED", None)
    gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO")
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", before)


def copy_layer(layer: QgsMapLayer | None) -> QgsMapLayer | None:
    """A new layer on ``layer``'s source with its style, safe to render from this thread (None if unusable)."""
    with read_only_sources():
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


def _style_inputs(
    layers: list[QgsRasterLayer], paths: list[str], chosen: list[tuple[int, ...]]
) -> list[tuple[int, ...]]:
    """Stretch before and after alike (per band position), so that what changed looks changed."""
    if len({len(bands) for bands in chosen}) != 1:
        chosen = [(bands[0],) for bands in chosen]
    cuts = [[band_cut(path, band) for band in bands] for path, bands in zip(paths, chosen)]
    highs = [max(abs(c[i][1]) for c in cuts) / max(min(abs(c[i][1]) for c in cuts), 1e-12) for i in range(len(cuts[0]))]
    if max(highs) > 4:  # different value scales (e.g. reflectance x 10000 and 8-bit TCI): stretch each alone
        for layer, bands, own in zip(layers, chosen, cuts):
            _stretched(layer, bands, own)
        return chosen
    limits = [(min(c[i][0] for c in cuts), max(c[i][1] for c in cuts)) for i in range(len(chosen[0]))]
    for layer, bands in zip(layers, chosen):
        _stretched(layer, bands, limits)
    return chosen


def framed_extent(extent: QgsRectangle) -> QgsRectangle:
    """``extent`` widened (never cropped) to an aspect between :data:`MIN_ASPECT` and :data:`MAX_ASPECT`."""
    out = QgsRectangle(extent)
    if out.width() <= 0 or out.height() <= 0:
        return out
    ratio = out.height() / out.width()
    if ratio > MAX_ASPECT:
        pad = (out.height() / MAX_ASPECT - out.width()) / 2
        out.setXMinimum(out.xMinimum() - pad)
        out.setXMaximum(out.xMaximum() + pad)
    elif ratio < MIN_ASPECT:
        pad = (out.width() * MIN_ASPECT - out.height()) / 2
        out.setYMinimum(out.yMinimum() - pad)
        out.setYMaximum(out.yMaximum() + pad)
    return out


def _png(layers: list[QgsMapLayer], extent: QgsRectangle, crs: QgsCoordinateReferenceSystem, width: int) -> bytes:
    height = max(60, round(width * extent.height() / extent.width())) if extent.width() > 0 else width
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


def _caption(facts: ImageFacts | None, label: str, path: str, kind: str, bands: tuple[int, ...]) -> str:
    date = f" · {facts.acquired}" if facts is not None and facts.acquired else ""
    names = band_labels(path, bands)
    named = f" ({', '.join(names)})" if all(names) else ""
    shown = f"{kind}, band{'s' if len(bands) > 1 else ''} {', '.join(map(str, bands))}{named}"
    return f"{label[:1].upper() + label[1:]}{date} · {shown}"


def input_previews(
    inputs: Sequence[tuple[str, str]],
    roles: Mapping[str, Mapping[str, int]],
    facts: Sequence[ImageFacts],
    extent: QgsRectangle,
    crs: QgsCoordinateReferenceSystem,
) -> list[tuple[str, bytes]]:
    """PNG previews of ``(label, path)`` inputs, read through VRT views in a folder of their own.

    The layers live only inside this function, so GDAL closes the views (and writes any statistics
    it keeps in them) before the folder goes: a layer outliving the folder made GDAL report
    "Failed to open .../input1.vrt to write" when it was finally closed.
    """
    by_path = {f.path: f for f in facts}
    with read_only_sources(), tempfile.TemporaryDirectory(prefix="changelens-preview-") as folder:
        opened = []
        for i, (label, path) in enumerate(inputs):
            view = preview_source(path, folder, f"input{i}")
            layer = QgsRasterLayer(view, label, "gdal") if view else None
            shown = display_bands(path, roles.get(path))
            if layer is not None and layer.isValid() and shown is not None:
                opened.append((label, path, layer, shown))
        if not opened:
            return []
        chosen = _style_inputs([o[2] for o in opened], [o[1] for o in opened], [o[3][0] for o in opened])
        images = []
        for (label, path, layer, (_bands, kind)), bands in zip(opened, chosen):
            kind = kind if len(bands) > 1 else "grey"
            images.append(
                (_caption(by_path.get(path), label, path, kind, bands), _png([layer], extent, crs, PREVIEW_WIDTH_PX))
            )
        del opened, layer
    return images


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
        palette = QgsPalettedRasterRenderer(result.dataProvider(), renderer.band(), classes)
        result.setRenderer(palette)
    result.renderer().setOpacity(BASEMAP_OPACITY)


def result_figure(
    product: MapProduct, polygons: str | None, polygon_count: int, basemap: QgsMapLayer | None, caption: str
) -> tuple[MapFigure, QgsRectangle, QgsCoordinateReferenceSystem] | None:
    """The page-wide result map with its furniture, and the framed extent and CRS the previews share."""
    result = QgsRasterLayer(product.class_raster, "result", "gdal")
    if not result.isValid():
        return None
    crs = result.crs()
    extent = framed_extent(result.extent())
    layers: list[QgsMapLayer] = [result]
    if polygons and polygon_count <= MAX_OUTLINED_POLYGONS:
        outline = QgsVectorLayer(polygons, "polygons", "ogr")
        if outline.isValid():
            layers.insert(0, outline)
    if basemap is not None:
        _over_basemap(result, [c.value for c in product.scheme.classes if c.background])
        layers.append(basemap)
    with read_only_sources():
        png = _png(layers, extent, crs, RESULT_WIDTH_PX)
    image = QImage()
    image.loadFromData(QByteArray(png), "PNG")
    left, top, right, bottom = MARGINS
    width, height = image.width(), image.height()
    scale_px, scale_label = scale_bar(extent, crs, width)
    figure = MapFigure(
        png=png,
        width=width + left + right,
        height=height + top + bottom,
        map_box=(left, top, width, height),
        ticks=coordinate_ticks(extent, crs, width, height),
        scale_px=scale_px,
        scale_label=scale_label,
        north_deg=north_angle(extent, crs),
        caption=caption,
    )
    return figure, extent, crs
