"""The report's maps, decided once for every renderer: frame, furniture, preview bands, stretch and captions.

A renderer only turns these decisions into PNG images: QGIS's map renderer in Processing
(``processing/preview.py``), numpy and GDAL on the command line and the cluster workers
(:mod:`.preview`). Both draw the result map on the same framed extent and size, get the same
coordinate ticks, scale bar and north arrow (:mod:`.map_furniture`), show the same bands of each
input stretched between the same limits and write the same captions, so two reports of one run
differ only in the pixels of their images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence

from osgeo import osr

from ..errors import ChangeLensError
from ..io.grid import centre_pixel_area_m2, grid_of, srs_of
from ..io.raster import open_raster
from .cleanup import PolygonConfig
from .map_furniture import Bounds, coordinate_ticks, north_angle, scale_bar
from .products import MapProduct
from .report_facts import ImageFacts, band_cut, band_labels, display_bands
from .report_svg import MapFigure

RESULT_WIDTH_PX = 1600  # the result map spans the page; the report shows it at least 1000 px wide
PREVIEW_WIDTH_PX = 760
MAX_ASPECT = 0.75  # taller areas get margins left and right, so the result map keeps its full width
MIN_ASPECT = 0.35
MARGINS = (56, 14, 16, 50)  # left, top, right, bottom around the result map (tick labels)
MAX_OUTLINED_POLYGONS = 20000  # beyond this, outlines blur into noise at preview size and take long to draw
BASEMAP_OPACITY = 0.75


def framed_bounds(bounds: Bounds) -> Bounds:
    """``bounds`` widened (never cropped) to an aspect between :data:`MIN_ASPECT` and :data:`MAX_ASPECT`."""
    xmin, ymin, xmax, ymax = bounds
    width, height = xmax - xmin, ymax - ymin
    if width <= 0 or height <= 0:
        return bounds
    ratio = height / width
    if ratio > MAX_ASPECT:
        pad = (height / MAX_ASPECT - width) / 2
        return xmin - pad, ymin, xmax + pad, ymax
    if ratio < MIN_ASPECT:
        pad = (width * MIN_ASPECT - height) / 2
        return xmin, ymin - pad, xmax, ymax + pad
    return bounds


@dataclass(frozen=True)
class Frame:
    """Where every map of the report is drawn: the class raster's framed extent and its CRS (WKT, may be empty)."""

    bounds: Bounds
    crs_wkt: str

    def size(self, width: int) -> tuple[int, int]:
        """Pixel size of a map ``width`` pixels wide."""
        xmin, ymin, xmax, ymax = self.bounds
        if xmax - xmin <= 0:
            return width, width
        return width, max(60, round(width * (ymax - ymin) / (xmax - xmin)))

    def srs(self) -> osr.SpatialReference | None:
        """The CRS with GIS axis order, or None when unknown."""
        return srs_of(self.crs_wkt)


def frame_of(class_raster: str) -> Frame | None:
    """The frame of the maps of a run (None when the class raster cannot be read)."""
    try:
        grid = grid_of(open_raster(class_raster))
    except (ChangeLensError, RuntimeError):
        return None
    return Frame(framed_bounds(grid.bounds), grid.crs_wkt)


def map_figure(png: bytes, frame: Frame, caption: str) -> MapFigure:
    """The result map (``png``, :data:`RESULT_WIDTH_PX` wide on ``frame``) placed with its furniture."""
    width, height = frame.size(RESULT_WIDTH_PX)
    left, top, right, bottom = MARGINS
    srs = frame.srs()
    scale_px, scale_label = scale_bar(frame.bounds, srs, width)
    return MapFigure(
        png=png,
        width=width + left + right,
        height=height + top + bottom,
        map_box=(left, top, width, height),
        ticks=coordinate_ticks(frame.bounds, srs, width, height),
        scale_px=scale_px,
        scale_label=scale_label,
        north_deg=north_angle(frame.bounds, srs),
        caption=caption,
    )


@dataclass(frozen=True)
class Preview:
    """One input as the report previews it: which bands, stretched linearly between ``limits`` (one pair per band)."""

    label: str
    path: str
    bands: tuple[int, ...]
    limits: tuple[tuple[float, float], ...]
    caption: str


def preview_caption(facts: ImageFacts | None, label: str, path: str, kind: str, bands: tuple[int, ...]) -> str:
    """``Before · 2020-07-28 · true colour, bands 4, 3, 2 (B4, B3, B2)``."""
    date = f" · {facts.acquired}" if facts is not None and facts.acquired else ""
    names = band_labels(path, bands)
    named = f" ({', '.join(names)})" if all(names) else ""
    shown = f"{kind}, band{'s' if len(bands) > 1 else ''} {', '.join(map(str, bands))}{named}"
    return f"{label[:1].upper() + label[1:]}{date} · {shown}"


def previews_of(
    inputs: Sequence[tuple[str, str]], roles: Mapping[str, Mapping[str, int]], facts: Sequence[ImageFacts]
) -> list[Preview]:
    """The before/after previews: true colour from the bands found, stretched alike so that change shows.

    Both dates show the same number of bands (else the first band of each, in grey); their stretch is
    shared per band position, unless their value scales differ (reflectance x 10000 and 8-bit TCI):
    then each is stretched alone between its own 2-98 % cut.
    """
    by_path = {f.path: f for f in facts}
    shown = []
    for label, path in inputs:
        found = display_bands(path, roles.get(path))
        if found is not None:
            shown.append((label, path, *found))
    if not shown:
        return []
    chosen = [bands for _label, _path, bands, _kind in shown]
    if len({len(bands) for bands in chosen}) != 1:
        chosen = [(bands[0],) for bands in chosen]
    cuts = [[band_cut(path, band) for band in bands] for (_l, path, _b, _k), bands in zip(shown, chosen)]
    positions = range(len(chosen[0]))
    highs = [max(abs(c[i][1]) for c in cuts) / max(min(abs(c[i][1]) for c in cuts), 1e-12) for i in positions]
    if max(highs) > 4:
        limits = [tuple(own) for own in cuts]
    else:
        shared = tuple((min(c[i][0] for c in cuts), max(c[i][1] for c in cuts)) for i in positions)
        limits = [shared for _c in cuts]
    out = []
    for (label, path, _bands, kind), bands, own in zip(shown, chosen, limits):
        kind = kind if len(bands) > 1 else "grey"
        out.append(Preview(label, path, bands, own, preview_caption(by_path.get(path), label, path, kind, bands)))
    return out


def result_caption(title: str, outlined: bool, mmu: str) -> str:
    """``Burn severity (dNBR), polygons outlined · minimum mapping unit 3 pixels = ...``."""
    caption = title + (", polygons outlined" if outlined else "")
    return caption + (f" · minimum mapping unit {mmu}" if mmu and mmu != "off" else "")


def mmu_applied(asked: str, threshold_px: int, config: PolygonConfig, class_raster: str) -> str:
    """The minimum mapping unit as asked and as applied: ``3 pixels = 1,200 m² (0.12 ha) here``."""
    if not threshold_px:
        return asked
    pixel_m2 = centre_pixel_area_m2(grid_of(open_raster(class_raster)))
    area = threshold_px * pixel_m2
    here = f"{threshold_px} pixels = {area:,.0f} m² ({area / 1e4:.2f} ha) here"
    if threshold_px > config.threshold_px(pixel_m2):
        return f"{asked} asked; the method's own unit applies: {here}"
    return here if asked == f"{threshold_px} pixels" else f"{asked}: {here}"


class MapRenderer(Protocol):
    """What draws the report's images; every decision about them is made above."""

    def result_png(self, product: MapProduct, polygons: str | None, basemap: Any, frame: Frame) -> bytes | None:
        """The class raster (with ``polygons`` outlined, over ``basemap``) at :data:`RESULT_WIDTH_PX` on ``frame``."""

    def preview_pngs(self, previews: Sequence[Preview], frame: Frame) -> list[bytes | None]:
        """Each preview at :data:`PREVIEW_WIDTH_PX` on ``frame`` (None where one cannot be drawn)."""

    def basemap_name(self, basemap: Any) -> str:
        """How the report names the basemap."""
