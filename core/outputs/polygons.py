"""Polygon layers in any OGR format: attributes per region and a style that travels with the file."""

from __future__ import annotations

import os
import re

from osgeo import ogr

from ..classes import ClassInfo
from ..errors import OutputError
from ..io.grid import Grid
from ..progress import Progress, report
from .geometry import GroundMetric, simplified, without_holes
from .products import MapProduct
from .vectorstyle import qml_categorized, sld_categorized, vector_sidecar_path, write_gpkg_default_style
from .zonal import Zonal

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


def measure_field_name(measure_name: str) -> str:
    """``mean_<measure>`` as a portable field name (e.g. ``mean_dnbr``)."""
    plain = re.sub(r"\(.*?\)", "", measure_name.lower())  # units in brackets are not part of the name
    slug = re.sub(r"[^0-9a-z]+", "_", plain).strip("_")[:40].rstrip("_")
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


def _field(name: str, kind: int, width: int = 0, precision: int = 0) -> ogr.FieldDefn:
    definition = ogr.FieldDefn(name, kind)
    if width:
        definition.SetWidth(width)
    if precision:
        definition.SetPrecision(precision)
    return definition


def write_polygons(
    regions: str,
    path: str,
    driver: str,
    product: MapProduct,
    classes: tuple[ClassInfo, ...],
    fill_holes: bool,
    simplify_tolerance: float,
    zonal: Zonal,
    grid: Grid,
    progress: Progress,
) -> dict[int, int]:
    """Write the regions with their attributes and a travelling style; returns polygons per class."""
    counts: dict[int, int] = {}
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
        if fill_holes:
            geometry = without_holes(geometry)
        if simplify_tolerance > 0:
            geometry = simplified(geometry, simplify_tolerance)
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
        counts[class_id] = counts.get(class_id, 0) + 1
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
    return counts
