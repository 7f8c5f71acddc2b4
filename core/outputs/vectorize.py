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
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Iterator

from osgeo import gdal, ogr

from ..classes import ClassInfo
from ..errors import CancelledError, OutputError, ParameterError
from ..io.grid import Grid, centre_pixel_area_m2, grid_of
from ..io.raster import bounded_gdal_cache, open_raster
from ..progress import Log, Progress, no_log, no_progress, report, sub_progress
from .cleanup import DEFAULT_MIN_AREA_PX, PolygonConfig
from .polygons import measure_field_name, vector_driver, write_polygons
from .products import MapProduct
from .report import Histogram
from .stats import ClassStats
from .tables import check_table_path, write_table
from .transaction import Transaction
from .writer import TILE_PX
from .zonal import measure_reader, zonal_pass

__all__ = [
    "DEFAULT_MIN_AREA_PX",
    "MapOutputs",
    "MapResult",
    "PolygonConfig",
    "check_map_outputs",
    "make_map_outputs",
    "measure_field_name",
]

RASTERIZE_CACHE_BYTES = 48 << 20  # GDAL rasterizes in chunks as large as its block cache


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
    polygons_staged: str | None = None  # where the polygons can be read before the run commits
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


def check_map_outputs(outputs: MapOutputs) -> None:
    """Refuse an unknown polygon or table format before any work (folders are checked by the transaction)."""
    if outputs.polygons:
        vector_driver(outputs.polygons)
    if outputs.stats_table:
        check_table_path(outputs.stats_table)


def _polygonised(product: MapProduct, config: PolygonConfig) -> tuple[ClassInfo, ...]:
    return tuple(c for c in product.scheme.classes if config.include_background or not c.background)


def make_map_outputs(
    product: MapProduct,
    outputs: MapOutputs,
    config: PolygonConfig | None = None,
    progress: Progress = no_progress,
    log: Log = no_log,
    transaction: Transaction | None = None,
) -> MapResult:
    """Sieve (optional), polygonise, measure and tabulate ``product``.

    ``product.class_raster`` is read (and, with a minimum mapping unit, rewritten in place:
    during a run it is the staged class raster). Polygons and the table are written to their
    staged paths in ``transaction``, so they appear only when the run commits; without a
    transaction the call commits its own. Raises :class:`OutputError` for unusable
    destinations and :class:`CancelledError` when ``progress`` says stop (nothing is kept).
    """
    check_map_outputs(outputs)
    config = config or PolygonConfig()
    own = transaction is None
    txn = transaction or Transaction()
    try:
        result = _make(product, outputs, config, progress, log, txn)
        if own:
            txn.commit()
    except BaseException:
        if own:
            txn.discard()
        raise
    _refresh(product.stats, result.stats)
    progress(1.0)  # outputs are in place (or staged for the run's commit): too late to cancel here
    return result


def _make(
    product: MapProduct, outputs: MapOutputs, config: PolygonConfig, progress: Progress, log: Log, txn: Transaction
) -> MapResult:
    polygons = txn.path_for(outputs.polygons, "polygons") if outputs.polygons else None
    table = txn.path_for(outputs.stats_table, "area statistics table") if outputs.stats_table else None
    driver = vector_driver(outputs.polygons) if outputs.polygons else ""
    class_ds = open_raster(product.class_raster)
    grid = grid_of(class_ds)
    classes = _polygonised(product, config)
    work = tempfile.mkdtemp(prefix=".changelens-work-", dir=os.path.dirname(os.path.abspath(product.class_raster)))
    result = MapResult(
        ClassStats(product.scheme),
        polygonised_classes=tuple(c.value for c in classes),
        polygons=outputs.polygons,
        stats_table=outputs.stats_table,
        polygons_staged=polygons,
    )

    def part(start: float, end: float) -> Progress:
        return sub_progress(progress, start, end)

    try:
        with bounded_gdal_cache():
            sieved = None
            if config.sieves:
                pixel_m2 = centre_pixel_area_m2(grid)
                if not math.isfinite(pixel_m2) and config.min_area_m2 > 0:
                    raise ParameterError(
                        "A minimum mapping unit in m² needs images on the ground: these have no georeferencing, "
                        "so give the minimum mapping unit in pixels and set the one in m² to 0."
                    )
                result.sieve_threshold_px = config.threshold_px(pixel_m2 if math.isfinite(pixel_m2) else 1.0)
                if math.isfinite(pixel_m2):
                    log(
                        f"Minimum mapping unit {result.sieve_threshold_px * pixel_m2:,.0f} m² = "
                        f"{result.sieve_threshold_px} pixels of {pixel_m2:.6g} m² (larger of {config.min_area_m2:g} m² "
                        f"and {config.min_area_px} pixels): smaller regions merge into their largest neighbour."
                    )
                else:
                    log(
                        f"Minimum mapping unit {result.sieve_threshold_px} pixels (areas unknown): smaller regions "
                        "merge into their largest neighbour."
                    )
                sieved = os.path.join(work, "sieved.tif")
                eight = config.eight_connected if config.sieve_eight_connected is None else config.sieve_eight_connected
                sieve_classes(class_ds, sieved, result.sieve_threshold_px, eight, part(0.0, 0.2))
                class_ds = gdal.Open(sieved)
            labels = None
            regions = os.path.join(work, "regions.gpkg")
            if polygons:
                count = _polygonize(class_ds, grid, classes, regions, config.eight_connected, part(0.2, 0.5))
                log(f"{count} regions polygonised.")
                labels = _label_raster(regions, grid, os.path.join(work, "labels.tif"), part(0.5, 0.6))
            measure = measure_reader(product, grid)
            max_fid = _max_fid(regions) if polygons else 0
            zonal = zonal_pass(class_ds, labels, max_fid, measure, grid, product, result.stats, part(0.6, 0.75))
            result.class_means, result.histogram = zonal.class_means, zonal.histogram
            if polygons:
                result.polygon_counts = write_polygons(
                    regions,
                    polygons,
                    driver,
                    product,
                    classes,
                    config.fill_holes,
                    config.simplify_tolerance,
                    zonal,
                    grid,
                    part(0.75, 0.98),
                )
            if table:
                _write_stats(table, product, result)
            report(progress, 0.99)
            class_ds = labels = measure = None
            if sieved is not None:  # the class raster now tells the sieved areas, like the polygons
                _replace_raster(sieved, product.class_raster)
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
def _cancellable(cancelled: list[bool], doing: str = "making polygons") -> Iterator[None]:
    try:
        yield
    except RuntimeError as exc:
        if cancelled:
            raise CancelledError("The run was cancelled.") from exc
        raise OutputError(f"GDAL failed while {doing}: {exc}") from exc


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


def sieve_classes(src: gdal.Dataset, path: str, threshold_px: int, eight: bool, progress: Progress) -> None:
    """Write ``src``'s classes to ``path`` with regions under ``threshold_px`` pixels merged into their
    largest neighbour (GDAL sieve; no data stays no data). Honours cancel through ``progress``."""
    dst = _class_band_like(src, path)
    source = src.GetRasterBand(1)
    cancelled: list[bool] = []
    with _cancellable(cancelled, "removing small regions"):
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
