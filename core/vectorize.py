"""Polygons, minimum mapping unit and class statistics from a classified raster.

:func:`make_map_outputs` is the one call every algorithm makes after classifying:

1. optional minimum mapping unit: GDAL's sieve (regions below ``min_area_m2`` merge into
   their largest neighbour), written back into the class raster so that raster and
   polygons tell the same areas;
2. GDAL polygonize (streams scanlines) into a scratch GeoPackage, background classes and
   no data masked out through a VRT lookup table;
3. the regions are burned into a label raster, then one block-wise pass sums the driving
   measure per region and per class, recounts class areas and builds the histogram;
4. the polygons are written in any OGR format with ``class_id``, ``class_name``,
   ``pixels``, ``area_ha`` (ellipsoidal for geographic CRSs), ``perimeter_m`` and the mean
   measure, after optional hole filling and simplification, with a style that travels.

Memory holds a few arrays per region and one block, never the raster.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from osgeo import gdal, ogr

from .classes import ClassInfo
from .engine import BLOCK_HEIGHT_PX, ClassStats
from .errors import CancelledError, OutputError, ParameterError
from .geometry import GroundMetric, pixel_area_at_centre_m2, simplified, without_holes
from .grid import Grid, grid_of, pixel_area_rows_m2, warp_to_grid
from .pair import Log, no_log
from .products import MapProduct
from .progress import Progress, no_progress, report, sub_progress
from .raster import BandReader, bounded_gdal_cache, open_raster
from .report import Histogram
from .tables import check_table_path, write_table
from .vectorstyle import qml_categorized, sld_categorized, vector_sidecar_path, write_gpkg_default_style
from .windows import Window, block_windows, count_blocks
from .writer import TILE_PX

gdal.UseExceptions()
ogr.UseExceptions()

HISTOGRAM_BINS = 60
RASTERIZE_CACHE_BYTES = 48 << 20  # GDAL rasterizes in chunks as large as its block cache
_VECTOR_DRIVERS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".sqlite": "SQLite",
    ".kml": "KML",
    ".gml": "GML",
    ".tab": "MapInfo File",
    ".mif": "MapInfo File",
}


@dataclass(frozen=True)
class PolygonConfig:
    """Clean-up and polygon options (areas in m², tolerance in map units)."""

    min_area_m2: float = 0.0
    fill_holes: bool = False
    simplify_tolerance: float = 0.0
    eight_connected: bool = False
    include_background: bool = False

    def __post_init__(self) -> None:
        if not self.min_area_m2 >= 0 or not math.isfinite(self.min_area_m2):
            raise ParameterError("The minimum mapping unit must be 0 m² or more.")
        if not self.simplify_tolerance >= 0 or not math.isfinite(self.simplify_tolerance):
            raise ParameterError("The simplification tolerance must be 0 or more (map units).")


@dataclass(frozen=True)
class MapOutputs:
    """Where to write polygons and the statistics table; None skips one."""

    polygons: str | None = None
    stats_table: str | None = None


@dataclass
class MapResult:
    """What the output step produced and measured."""

    stats: ClassStats
    polygon_counts: dict[int, int] = field(default_factory=dict)
    class_means: dict[int, float | None] = field(default_factory=dict)
    histogram: Histogram | None = None
    polygons: str | None = None
    stats_table: str | None = None
    sieve_threshold_px: int = 0
    polygonised_classes: tuple[int, ...] = ()

    def rows(self) -> list[dict[str, object]]:
        """Per class: id, name, pixels, area_ha, percent, polygons and mean measure."""
        return [
            {
                **row,
                "polygons": self.polygon_counts.get(int(row["class_id"]), 0),  # type: ignore[arg-type]
                "mean_measure": self.class_means.get(int(row["class_id"])),  # type: ignore[arg-type]
            }
            for row in self.stats.rows()
        ]


def measure_field_name(measure_name: str) -> str:
    """``mean_<measure>`` as a portable field name (e.g. ``mean_dnbr``)."""
    slug = re.sub(r"[^0-9a-z]+", "_", measure_name.lower()).strip("_")
    return f"mean_{slug or 'value'}"


def vector_driver(path: str) -> str:
    """The OGR driver for an output path, from its extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext in _VECTOR_DRIVERS:
        return _VECTOR_DRIVERS[ext]
    for i in range(ogr.GetDriverCount()):
        driver = ogr.GetDriver(i)
        meta = driver.GetMetadata() or {}
        if meta.get("DCAP_VECTOR") == "YES" and meta.get("DCAP_CREATE") == "YES":
            if ext.lstrip(".") in (meta.get("DMD_EXTENSIONS") or "").split():
                return driver.GetName()
    raise OutputError(f"Cannot tell which vector format to write for '{path}': use .gpkg, .shp, .geojson or .fgb.")


def _check_destination(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"The output folder '{folder}' does not exist.")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"The output folder '{folder}' is not writable.")


def check_map_outputs(outputs: MapOutputs) -> None:
    """Refuse unusable destinations before any work (folder missing or read-only, unknown format)."""
    if outputs.polygons:
        _check_destination(outputs.polygons)
        vector_driver(outputs.polygons)
    if outputs.stats_table:
        _check_destination(outputs.stats_table)
        check_table_path(outputs.stats_table)


def _polygonised(product: MapProduct, config: PolygonConfig) -> tuple[ClassInfo, ...]:
    return tuple(c for c in product.scheme.classes if config.include_background or not c.background)


def make_map_outputs(
    product: MapProduct,
    outputs: MapOutputs,
    config: PolygonConfig = PolygonConfig(),
    progress: Progress = no_progress,
    log: Log = no_log,
) -> MapResult:
    """Sieve (optional), polygonise, measure and tabulate ``product``; all outputs appear only on success."""
    check_map_outputs(outputs)
    driver = vector_driver(outputs.polygons) if outputs.polygons else ""
    class_ds = open_raster(product.class_raster)
    grid = grid_of(class_ds)
    classes = _polygonised(product, config)
    work = tempfile.mkdtemp(prefix=".changelens-", dir=os.path.dirname(os.path.abspath(product.class_raster)))
    result = MapResult(ClassStats(product.scheme), polygonised_classes=tuple(c.value for c in classes))

    def part(start: float, end: float) -> Progress:
        return sub_progress(progress, start, end)

    try:
        with bounded_gdal_cache():
            sieved = None
            if config.min_area_m2 > 0:
                pixel_m2 = pixel_area_at_centre_m2(grid.srs(), grid.geotransform, grid.height_px)
                result.sieve_threshold_px = max(1, math.ceil(config.min_area_m2 / pixel_m2 - 1e-9))
                log(
                    f"Minimum mapping unit {config.min_area_m2:g} m² = {result.sieve_threshold_px} pixels of "
                    f"{pixel_m2:.6g} m²: smaller regions merge into their largest neighbour."
                )
                sieved = os.path.join(work, "sieved.tif")
                _sieve(class_ds, sieved, result.sieve_threshold_px, config.eight_connected, part(0.0, 0.2))
                class_ds = gdal.Open(sieved)
            labels = None
            if outputs.polygons:
                regions = os.path.join(work, "regions.gpkg")
                count = _polygonize(class_ds, grid, classes, regions, config.eight_connected, part(0.2, 0.5))
                log(f"{count} regions polygonised.")
                labels = _label_raster(regions, grid, os.path.join(work, "labels.tif"), part(0.5, 0.6))
            measure = _measure_reader(product, grid)
            max_fid = _max_fid(regions) if outputs.polygons else 0
            zonal = _zonal_pass(class_ds, labels, max_fid, measure, grid, product, result, part(0.6, 0.75))
            if outputs.polygons:
                staged = os.path.join(work, "out", os.path.basename(outputs.polygons))
                os.makedirs(os.path.dirname(staged))
                _write_polygons(
                    regions, staged, driver, product, classes, config, zonal, result, grid, part(0.75, 0.98)
                )
            if outputs.stats_table:
                staged_table = os.path.join(work, "table", os.path.basename(outputs.stats_table))
                os.makedirs(os.path.dirname(staged_table))
                _write_stats(staged_table, product, result)
            report(progress, 0.99)
            class_ds = labels = measure = None
            # Commit: the sieved class raster, the polygons and the table move into place together.
            if sieved is not None:
                _replace_raster(sieved, product.class_raster)
            if outputs.polygons:
                result.polygons = _move_all(os.path.dirname(staged), outputs.polygons)
            if outputs.stats_table:
                result.stats_table = _move_all(os.path.dirname(staged_table), outputs.stats_table)
        _refresh(product.stats, result.stats)
        progress(1.0)  # outputs are in place: too late to cancel
        return result
    finally:
        class_ds = labels = measure = None
        shutil.rmtree(work, ignore_errors=True)


def _refresh(target: ClassStats, source: ClassStats) -> None:
    """Make the product's statistics describe the final (possibly sieved) class raster."""
    if target is source:
        return
    target.pixels.clear()
    target.pixels.update(source.pixels)
    target.area_m2.clear()
    target.area_m2.update(source.area_m2)


def _gdal_callback(progress: Progress, cancelled: list[bool]):  # noqa: ANN202 - GDAL callback
    def callback(complete: float, _message: object, _data: object) -> int:
        if progress(complete):
            return 1
        cancelled.append(True)
        return 0

    return callback


@contextlib.contextmanager
def _cancellable(cancelled: list[bool]) -> Iterator[None]:
    try:
        yield
    except RuntimeError as exc:
        if cancelled:
            raise CancelledError("The run was cancelled.") from exc
        raise OutputError(f"GDAL failed while making polygons: {exc}") from exc


def _class_band_like(src: gdal.Dataset, path: str) -> gdal.Dataset:
    """An empty Byte GeoTIFF with ``src``'s grid, no-data value, colour table and category names."""
    options = ["TILED=YES", f"BLOCKXSIZE={TILE_PX}", f"BLOCKYSIZE={TILE_PX}", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"]
    dst = gdal.GetDriverByName("GTiff").Create(path, src.RasterXSize, src.RasterYSize, 1, gdal.GDT_Byte, options)
    dst.SetGeoTransform(src.GetGeoTransform())
    dst.SetProjection(src.GetProjection())
    band, source = dst.GetRasterBand(1), src.GetRasterBand(1)
    if source.GetNoDataValue() is not None:
        band.SetNoDataValue(source.GetNoDataValue())
    band.SetDescription(source.GetDescription())
    if source.GetRasterColorTable() is not None:
        band.SetRasterColorTable(source.GetRasterColorTable())
        band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    if source.GetCategoryNames():
        band.SetCategoryNames(source.GetCategoryNames())
    return dst


def _sieve(src: gdal.Dataset, path: str, threshold_px: int, eight: bool, progress: Progress) -> None:
    dst = _class_band_like(src, path)
    source = src.GetRasterBand(1)
    cancelled: list[bool] = []
    with _cancellable(cancelled):
        gdal.SieveFilter(
            source,
            source.GetMaskBand(),
            dst.GetRasterBand(1),
            threshold_px,
            8 if eight else 4,
            callback=_gdal_callback(progress, cancelled),
        )
    dst.FlushCache()
    dst = None


def _mask_vrt(class_ds: gdal.Dataset, keep: tuple[int, ...]) -> gdal.Dataset:
    """A Byte VRT that is 1 where the class raster holds a class to polygonise, else 0 (streams)."""
    lut = ",".join(f"{v}:{1 if v in keep else 0}" for v in range(256))
    gt = ",".join(repr(v) for v in class_ds.GetGeoTransform())
    xml = (
        f'<VRTDataset rasterXSize="{class_ds.RasterXSize}" rasterYSize="{class_ds.RasterYSize}">'
        f"<GeoTransform>{gt}</GeoTransform>"
        '<VRTRasterBand dataType="Byte" band="1"><ComplexSource>'
        f'<SourceFilename relativeToVRT="0">{_xml_text(class_ds.GetDescription())}</SourceFilename>'
        f"<SourceBand>1</SourceBand><LUT>{lut}</LUT>"
        "</ComplexSource></VRTRasterBand></VRTDataset>"
    )
    return gdal.Open(xml)


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _polygonize(
    class_ds: gdal.Dataset, grid: Grid, classes: tuple[ClassInfo, ...], path: str, eight: bool, progress: Progress
) -> int:
    mask = _mask_vrt(class_ds, tuple(c.value for c in classes))
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = ds.CreateLayer("regions", grid.srs(), ogr.wkbPolygon, options=["SPATIAL_INDEX=NO"])
    layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    cancelled: list[bool] = []
    layer.StartTransaction()
    with _cancellable(cancelled):
        gdal.Polygonize(
            class_ds.GetRasterBand(1),
            mask.GetRasterBand(1),
            layer,
            0,
            ["8CONNECTED=8"] if eight else [],
            callback=_gdal_callback(progress, cancelled),
        )
    layer.CommitTransaction()
    count = layer.GetFeatureCount()
    ds = None
    return count


def _label_raster(regions: str, grid: Grid, path: str, progress: Progress) -> gdal.Dataset:
    """Each polygon's feature id burned into an Int32 raster (0 = not polygonised)."""
    options = ["TILED=YES", f"BLOCKXSIZE={TILE_PX}", f"BLOCKYSIZE={TILE_PX}", "COMPRESS=DEFLATE", "BIGTIFF=YES"]
    dst = gdal.GetDriverByName("GTiff").Create(path, grid.width_px, grid.height_px, 1, gdal.GDT_Int32, options)
    dst.SetGeoTransform(grid.geotransform)
    dst.SetProjection(grid.crs_wkt)
    cancelled: list[bool] = []
    # RasterizeLayer streams features chunk by chunk; gdal.Rasterize would first load every geometry.
    src = ogr.Open(regions)
    layer = src.ExecuteSQL("SELECT fid + 0 AS rid, geom FROM regions")
    try:
        with _cancellable(cancelled), bounded_gdal_cache(RASTERIZE_CACHE_BYTES):
            gdal.RasterizeLayer(
                dst, [1], layer, options=["ATTRIBUTE=rid"], callback=_gdal_callback(progress, cancelled)
            )
    finally:
        src.ReleaseResultSet(layer)
        src = None
    dst.FlushCache()
    return dst


def _max_fid(regions: str) -> int:
    src = ogr.Open(regions)
    result = src.ExecuteSQL("SELECT MAX(fid) FROM regions")
    try:
        feature = result.GetNextFeature()
        return int(feature.GetField(0) or 0) if feature is not None else 0
    finally:
        src.ReleaseResultSet(result)


def _measure_reader(product: MapProduct, grid: Grid) -> BandReader | None:
    if not product.measure_raster:
        return None
    ds = open_raster(product.measure_raster)
    if grid_of(ds).same_as(grid):
        return BandReader(ds, 1)
    return BandReader(ds, 1, warp_to_grid(ds, grid, "bilinear"))


@dataclass
class _Zonal:
    """Per-region pixel counts and measure sums (index = polygon feature id)."""

    pixels: np.ndarray
    sums: np.ndarray
    valid: np.ndarray

    def mean(self, fid: int) -> float | None:
        if fid >= len(self.valid) or self.valid[fid] == 0:
            return None
        return float(self.sums[fid] / self.valid[fid])


def _histogram_range(reader: BandReader, product: MapProduct) -> tuple[float, float] | None:
    sample = reader.sample(512)
    if sample.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    marks = [v for v in (product.threshold, *product.breaks) if v is not None and math.isfinite(v)]
    if product.threshold is not None:
        lo, hi = min(lo, product.threshold), max(hi, product.threshold)
    inside = [v for v in marks if lo <= v <= hi]
    if inside:
        lo, hi = min(lo, *inside), max(hi, *inside)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.02 * (hi - lo)
    return lo - pad, hi + pad


def _zonal_pass(
    class_ds: gdal.Dataset,
    labels: gdal.Dataset | None,
    max_fid: int,
    measure: BandReader | None,
    grid: Grid,
    product: MapProduct,
    result: MapResult,
    progress: Progress,
) -> _Zonal:
    n = max_fid + 1
    zonal = _Zonal(np.zeros(n, np.int64), np.zeros(n, np.float64), np.zeros(n, np.int64))
    class_sums, class_valid = np.zeros(256), np.zeros(256, np.int64)
    span = _histogram_range(measure, product) if measure is not None else None
    edges = np.linspace(span[0], span[1], HISTOGRAM_BINS + 1) if span else None
    counts = np.zeros(HISTOGRAM_BINS, np.int64)
    block_w = min(grid.width_px, 4096)
    total = count_blocks(grid.width_px, grid.height_px, block_w, BLOCK_HEIGHT_PX)
    for done, w in enumerate(block_windows(grid.width_px, grid.height_px, block_w, BLOCK_HEIGHT_PX), start=1):
        cls = _read(class_ds, w).astype(np.intp)
        result.stats.add(cls, pixel_area_rows_m2(grid, w.row_off, w.height))
        values = measure.read(w) if measure is not None else None
        finite = np.isfinite(values) if values is not None else None
        if labels is not None:
            lab = _read(labels, w).astype(np.intp).ravel()
            zonal.pixels += np.bincount(lab, minlength=n)[:n]
            if values is not None:
                ok = finite.ravel() & (lab > 0)
                zonal.sums += np.bincount(lab[ok], weights=values.ravel()[ok], minlength=n)[:n]
                zonal.valid += np.bincount(lab[ok], minlength=n)[:n]
        if values is not None:
            c = cls[finite]
            class_sums += np.bincount(c, weights=values[finite], minlength=256)[:256]
            class_valid += np.bincount(c, minlength=256)[:256]
            if edges is not None:
                counts += np.histogram(np.clip(values[finite], edges[0], edges[-1]), bins=edges)[0]
        report(progress, done / total)
    if measure is not None:
        result.class_means = {
            c.value: (float(class_sums[c.value] / class_valid[c.value]) if class_valid[c.value] else None)
            for c in product.scheme.classes
        }
        if edges is not None:
            result.histogram = Histogram(tuple(float(e) for e in edges), tuple(int(k) for k in counts))
    return zonal


def _read(ds: gdal.Dataset, w: Window) -> np.ndarray:
    return ds.GetRasterBand(1).ReadAsArray(w.col_off, w.row_off, w.width, w.height)


def _field(name: str, kind: int, width: int = 0, precision: int = 0) -> ogr.FieldDefn:
    definition = ogr.FieldDefn(name, kind)
    if width:
        definition.SetWidth(width)
    if precision:
        definition.SetPrecision(precision)
    return definition


def _write_polygons(
    regions: str,
    path: str,
    driver: str,
    product: MapProduct,
    classes: tuple[ClassInfo, ...],
    config: PolygonConfig,
    zonal: _Zonal,
    result: MapResult,
    grid: Grid,
    progress: Progress,
) -> None:
    src = ogr.Open(regions)
    src_layer = src.GetLayerByName("regions")
    srs = grid.srs()
    out = ogr.GetDriverByName(driver).CreateDataSource(path)
    name = os.path.splitext(os.path.basename(path))[0]
    layer = out.CreateLayer(name, srs, ogr.wkbMultiPolygon)
    mean_name = measure_field_name(product.measure_name)
    for definition in (
        _field("class_id", ogr.OFTInteger),
        _field("class_name", ogr.OFTString, 80),
        _field("pixels", ogr.OFTInteger64),
        _field("area_ha", ogr.OFTReal, 18, 6),
        _field("perimeter_m", ogr.OFTReal, 18, 3),
        _field(mean_name, ogr.OFTReal, 18, 6),
    ):
        layer.CreateField(definition)
    names = {c.value: c.name for c in classes}
    metric = GroundMetric(srs)
    transactions = out.TestCapability(ogr.ODsCTransactions)
    if transactions:
        out.StartTransaction()
    defn = layer.GetLayerDefn()
    total = max(src_layer.GetFeatureCount(), 1)
    for done, source in enumerate(src_layer):
        if done % 2000 == 0:
            report(progress, done / total)
        geometry = source.GetGeometryRef()
        if geometry is None or geometry.IsEmpty():
            continue
        if config.fill_holes:
            geometry = without_holes(geometry)
        if config.simplify_tolerance > 0:
            geometry = simplified(geometry, config.simplify_tolerance)
        geometry = ogr.ForceToMultiPolygon(geometry)
        fid, class_id = source.GetFID(), source.GetField(0)
        feature = ogr.Feature(defn)
        feature.SetGeometry(geometry)
        # By position: formats with short names (Shapefile) launder them (perimeter_m -> perimeter_).
        feature.SetField(0, class_id)
        feature.SetField(1, names.get(class_id, str(class_id)))
        feature.SetField(2, int(zonal.pixels[fid]) if fid < len(zonal.pixels) else 0)
        feature.SetField(3, metric.area_m2(geometry) / 1e4)
        feature.SetField(4, metric.perimeter_m(geometry))
        mean = zonal.mean(fid)
        if mean is not None:
            feature.SetField(5, mean)
        layer.CreateFeature(feature)
        result.polygon_counts[class_id] = result.polygon_counts.get(class_id, 0) + 1
    if transactions:
        out.CommitTransaction()
    out = src = None
    qml = qml_categorized(classes)
    if driver == "GPKG":
        sld = sld_categorized(classes, name)
        write_gpkg_default_style(path, name, qml, sld, f"{product.title}: classes by class_id")
    else:
        with open(vector_sidecar_path(path), "w", encoding="utf-8") as handle:
            handle.write(qml)


def _write_stats(path: str, product: MapProduct, result: MapResult) -> None:
    mean_name = measure_field_name(product.measure_name)
    rows = [
        {
            "class_id": row["class_id"],
            "class_name": row["class_name"],
            "pixels": row["pixels"],
            "area_ha": row["area_ha"],
            "percent": row["percent"],
            "polygons": row["polygons"],
            mean_name: row["mean_measure"],
        }
        for row in result.rows()
    ]
    write_table(path, rows)


def _replace_raster(new: str, final: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(final + ".aux.xml")
    if os.path.exists(new + ".aux.xml"):
        os.replace(new + ".aux.xml", final + ".aux.xml")
    os.replace(new, final)


def _move_all(staging: str, final: str) -> str:
    """Move every file written in ``staging`` next to ``final`` (a Shapefile is several files)."""
    folder = os.path.dirname(os.path.abspath(final))
    if os.path.exists(final) and os.path.isfile(final):
        os.remove(final)
    for name in os.listdir(staging):
        target = os.path.join(folder, name)
        if os.path.isfile(target):
            os.remove(target)
        shutil.move(os.path.join(staging, name), target)  # another file system falls back to a copy
    if not os.path.exists(final):
        raise OutputError(f"The output '{final}' was not written.")
    return final
