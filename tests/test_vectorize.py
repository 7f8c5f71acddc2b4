"""Core output layer without QGIS: polygons, attributes, minimum mapping unit, statistics, styles."""

from __future__ import annotations

import csv
import math
import os

import numpy as np
import pytest
from changelens.core.errors import CancelledError, ParameterError
from changelens.core.io.grid import grid_of
from changelens.core.io.windows import Window
from changelens.core.methods.burn import SEVERITY
from changelens.core.outputs.products import MapProduct
from changelens.core.outputs.stats import ClassStats
from changelens.core.outputs.vectorize import MapOutputs, PolygonConfig, make_map_outputs
from changelens.core.outputs.writer import OutputSet, RasterOutput
from osgeo import gdal, ogr
from rasters import WGS84, read, trapezoid, write_raster


def _classes() -> np.ndarray:
    cls = np.full((12, 16), 3, np.uint8)
    cls[1:4, 1:5] = 7  # 12 px: 120 m x ... perimeter 2 * (40 + 30) m
    cls[6:10, 8:14] = 5  # 24 px minus a 4 px hole
    cls[7:9, 10:12] = 3
    cls[10, 2] = 6  # two pixels touching at a corner only
    cls[11, 3] = 6
    cls[0, 15] = 0  # no data
    return cls


def _measure(cls: np.ndarray) -> np.ndarray:
    measure = np.zeros(cls.shape, np.float32)
    measure[cls == 7] = 0.8
    measure[cls == 5] = np.arange(int((cls == 5).sum()), dtype=np.float32) / 100 + 0.3
    measure[cls == 6] = 0.5
    measure[0, 15] = np.nan
    return measure


def _product(tmp_path, cls: np.ndarray, measure: np.ndarray, epsg: int = 32633, gt=None) -> MapProduct:  # noqa: ANN001
    """A class raster written like every algorithm writes it (colour table, names, .qml) and its measure."""
    gt = gt or (500000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0)
    src = write_raster(tmp_path / "grid.tif", cls, epsg=epsg, geotransform=gt)
    grid = grid_of(gdal.Open(src))
    with OutputSet(grid, {"c": RasterOutput(str(tmp_path / "classes.tif"), "Byte", 0, "classes", SEVERITY)}) as out:
        out.write("c", Window(0, 0, cls.shape[1], cls.shape[0]), cls)
    m = write_raster(tmp_path / "measure.tif", measure, epsg=epsg, geotransform=gt, nodata=float("nan"))
    return MapProduct("Test", str(tmp_path / "classes.tif"), SEVERITY, ClassStats(SEVERITY), m, "dNBR", 0.099)


def _features(path: str) -> list[dict]:
    ds = ogr.Open(path)
    layer = ds.GetLayer(0)
    return [dict(f.items(), geometry=f.GetGeometryRef().ExportToWkt()) for f in layer]


def _by_class(features: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for f in features:
        out.setdefault(f["class_id"], []).append(f)
    return out


def test_polygons_attributes_and_table_match_hand_computation(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    result = make_map_outputs(product, MapOutputs(str(tmp_path / "p.gpkg"), str(tmp_path / "areas.csv")))
    polys = _by_class(_features(result.polygons))
    assert sorted(polys) == [5, 6, 7]  # background (1-3) is not polygonised
    (high,) = polys[7]
    assert high["class_name"] == "High severity" and high["pixels"] == 12
    assert high["area_ha"] == pytest.approx(0.12) and high["perimeter_m"] == pytest.approx(140.0)
    assert high["mean_dnbr"] == pytest.approx(0.8)
    (moderate,) = polys[5]
    assert moderate["area_ha"] == pytest.approx(0.20) and moderate["perimeter_m"] == pytest.approx(200 + 80)
    assert moderate["mean_dnbr"] == pytest.approx(0.3 + np.arange(20).mean() / 100, abs=1e-6)
    assert len(polys[6]) == 2 and all(p["perimeter_m"] == pytest.approx(40.0) for p in polys[6])
    with open(result.stats_table, newline="") as handle:
        table = {int(r["class_id"]): r for r in csv.DictReader(handle)}
    assert int(table[3]["pixels"]) == 16 * 12 - 12 - 20 - 2 - 1
    assert float(table[5]["area_ha"]) == pytest.approx(0.20) and int(table[5]["polygons"]) == 1
    assert int(table[6]["polygons"]) == 2 and float(table[7]["mean_dnbr"]) == pytest.approx(0.8)
    assert sum(float(r["percent"]) for r in table.values()) == pytest.approx(100.0, abs=1e-4)
    assert product.stats.pixels[7] == 12  # stats describe the raster on disk


def test_eight_connectivity_and_background(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    config = PolygonConfig(eight_connected=True, include_background=True)
    result = make_map_outputs(product, MapOutputs(str(tmp_path / "p.gpkg")), config)
    polys = _by_class(_features(result.polygons))
    (diagonal,) = polys[6]
    assert diagonal["area_ha"] == pytest.approx(0.02) and diagonal["perimeter_m"] == pytest.approx(80.0)
    assert sum(p["pixels"] for p in polys[3]) == 16 * 12 - 12 - 20 - 2 - 1
    assert sum(p["area_ha"] for p in polys[3]) == pytest.approx(1.57)


def test_minimum_mapping_unit_sieves_raster_and_polygons_alike(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    result = make_map_outputs(
        product, MapOutputs(str(tmp_path / "p.gpkg"), str(tmp_path / "a.csv")), PolygonConfig(min_area_m2=500)
    )
    assert result.sieve_threshold_px == 5
    sieved = read(product.class_raster)
    counts = np.bincount(sieved.ravel(), minlength=8)
    assert counts[6] == 0 and counts[5] == 24 and counts[7] == 12 and counts[0] == 1
    ds = gdal.Open(product.class_raster)
    band = ds.GetRasterBand(1)
    assert band.GetRasterColorTable().GetColorEntry(7)[:3] == SEVERITY.by_value(7).rgb()
    assert band.GetCategoryNames()[7] == "High severity" and band.GetNoDataValue() == 0
    polys = _by_class(_features(result.polygons))
    assert sorted(polys) == [5, 7]
    assert polys[5][0]["area_ha"] == pytest.approx(0.24) and polys[5][0]["perimeter_m"] == pytest.approx(200.0)
    for value in (5, 7):  # raster and polygons agree exactly on a projected grid
        raster_ha = product.stats.area_m2[value] / 1e4
        assert sum(p["area_ha"] for p in polys[value]) == pytest.approx(raster_ha, rel=1e-9)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".changelens-")]


def _cell_area_m2(lat0: float, lat1: float, dlon_deg: float) -> float:
    """Ellipsoidal area of a lat/lon cell by numerical integration of M(lat) N(lat) cos(lat) (Simpson)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lats = np.linspace(math.radians(lat0), math.radians(lat1), 201)
    w = 1 - e2 * np.sin(lats) ** 2
    g = (a * (1 - e2) / w**1.5) * (a / np.sqrt(w)) * np.cos(lats)
    h = (lats[-1] - lats[0]) / 200
    return abs(h / 3 * (g[0] + g[-1] + 4 * g[1:-1:2].sum() + 2 * g[2:-1:2].sum())) * math.radians(dlon_deg)


def test_geographic_areas_and_perimeters_are_ellipsoidal(tmp_path) -> None:  # noqa: ANN001
    cls = np.full((10, 12), 3, np.uint8)
    cls[2:6, 3:9] = 7  # 4 rows x 6 columns of 0.001 degree pixels at 60 N
    measure = np.where(cls == 7, 0.7, 0.0).astype(np.float32)
    gt = (10.0, 0.001, 0.0, 60.01, 0.0, -0.001)
    product = _product(tmp_path, cls, measure, epsg=WGS84, gt=gt)
    result = make_map_outputs(product, MapOutputs(str(tmp_path / "p.gpkg"), str(tmp_path / "a.csv")))
    hand_m2 = sum(6 * _cell_area_m2(60.01 - 0.001 * r, 60.01 - 0.001 * (r + 1), 0.001) for r in range(2, 6))
    (poly,) = _features(result.polygons)
    assert poly["area_ha"] == pytest.approx(hand_m2 / 1e4, rel=1e-7)
    assert product.stats.area_m2[7] == pytest.approx(hand_m2, rel=1e-7)
    assert abs(poly["area_ha"] * 1e4 / product.stats.area_m2[7] - 1) < 0.005
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    top, bottom = math.radians(60.008), math.radians(60.004)
    parallel = lambda lat: a / math.sqrt(1 - e2 * math.sin(lat) ** 2) * math.cos(lat) * math.radians(0.006)  # noqa: E731
    lats = np.linspace(bottom, top, 101)
    meridian = float(trapezoid(a * (1 - e2) / (1 - e2 * np.sin(lats) ** 2) ** 1.5, lats))
    assert poly["perimeter_m"] == pytest.approx(parallel(top) + parallel(bottom) + 2 * meridian, rel=1e-6)
    assert poly["mean_dnbr"] == pytest.approx(0.7)


def test_fill_holes_and_simplify(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    result = make_map_outputs(product, MapOutputs(str(tmp_path / "p.gpkg")), PolygonConfig(fill_holes=True))
    (moderate,) = _by_class(_features(result.polygons))[5]
    assert moderate["area_ha"] == pytest.approx(0.24) and moderate["perimeter_m"] == pytest.approx(200.0)
    # A staircase simplifies to fewer vertices with a tolerance of one pixel.
    stairs = np.full((20, 20), 3, np.uint8)
    for i in range(20):
        stairs[i, : i + 1] = 7
    folder = tmp_path / "stairs"
    folder.mkdir()
    product = _product(folder, stairs, np.ones_like(stairs, np.float32))
    exact = make_map_outputs(product, MapOutputs(str(folder / "exact.gpkg")))
    smooth = make_map_outputs(product, MapOutputs(str(folder / "smooth.gpkg")), PolygonConfig(simplify_tolerance=10))
    assert _vertices(smooth.polygons) < _vertices(exact.polygons) / 4
    assert _features(smooth.polygons)[0]["area_ha"] == pytest.approx(2.1, rel=0.1)


def _vertices(path: str) -> int:
    geometry = ogr.CreateGeometryFromWkt(_features(path)[0]["geometry"])
    return geometry.GetGeometryRef(0).GetGeometryRef(0).GetPointCount()


@pytest.mark.parametrize("ext", [".shp", ".geojson"])
def test_other_formats_carry_a_qml_sidecar(tmp_path, ext) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    path = str(tmp_path / f"polygons{ext}")
    result = make_map_outputs(product, MapOutputs(path))
    assert len(_features(result.polygons)) == 4
    qml = (tmp_path / "polygons.qml").read_text()
    assert 'type="categorizedSymbol"' in qml and 'label="High severity"' in qml


def test_gpkg_default_style_row(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    result = make_map_outputs(product, MapOutputs(str(tmp_path / "burn.gpkg")))
    ds = ogr.Open(result.polygons)
    (row,) = list(ds.GetLayerByName("layer_styles"))
    assert row["f_table_name"] == "burn" and row["f_geometry_column"] == "geom" and row["useAsDefault"] == 1
    assert "categorizedSymbol" in row["styleQML"] and "PropertyIsEqualTo" in row["styleSLD"]


def test_cancel_leaves_nothing_and_keeps_the_raster(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    before = open(product.class_raster, "rb").read()
    with pytest.raises(CancelledError):
        make_map_outputs(
            product,
            MapOutputs(str(tmp_path / "p.gpkg"), str(tmp_path / "a.csv")),
            PolygonConfig(min_area_m2=500),
            progress=lambda f: f < 0.55,
        )
    assert open(product.class_raster, "rb").read() == before
    leftovers = {"p.gpkg", "a.csv"} & set(os.listdir(tmp_path))
    assert not leftovers and not [p for p in os.listdir(tmp_path) if p.startswith(".changelens-")]


@pytest.mark.parametrize(("m2", "px", "kept_px"), [(0, 4, 4), (0, 0, 1), (500, 4, 5), (100, 4, 4), (0, 13, 13)])
def test_minimum_mapping_unit_in_pixels_and_the_larger_one_wins(tmp_path, m2: float, px: int, kept_px: int) -> None:  # noqa: ANN001
    """The default unit is a few pixels (specks merge); a larger area in m² wins; 0 pixels and 0 m² is off."""
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    result = make_map_outputs(product, MapOutputs(), PolygonConfig(min_area_m2=m2, min_area_px=px))
    counts = np.bincount(read(product.class_raster).ravel(), minlength=8)
    assert result.sieve_threshold_px == (kept_px if kept_px > 1 else 0)
    assert counts[6] == (2 if kept_px <= 1 else 0)  # two 1-pixel specks of class 6
    assert counts[7] == (12 if kept_px <= 12 else 0)


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="minimum mapping unit"):
        PolygonConfig(min_area_m2=-1)
    with pytest.raises(ParameterError, match="simplification"):
        PolygonConfig(simplify_tolerance=float("nan"))
    with pytest.raises(ParameterError, match="in pixels"):
        PolygonConfig(min_area_px=-1)


def test_statistics_table_opens_with_numeric_columns(tmp_path) -> None:  # noqa: ANN001
    cls = _classes()
    product = _product(tmp_path, cls, _measure(cls))
    result = make_map_outputs(product, MapOutputs(stats_table=str(tmp_path / "areas.csv")))
    assert (tmp_path / "areas.csvt").read_text().startswith('"Integer64","String","Integer64","Real"')
    ds = ogr.Open(result.stats_table)
    defn = ds.GetLayer(0).GetLayerDefn()
    kinds = {defn.GetFieldDefn(i).GetName(): defn.GetFieldDefn(i).GetType() for i in range(defn.GetFieldCount())}
    assert kinds["area_ha"] == ogr.OFTReal and kinds["pixels"] == ogr.OFTInteger64
    for ext in (".gpkg", ".xlsx"):
        out = make_map_outputs(product, MapOutputs(stats_table=str(tmp_path / f"areas{ext}")))
        table = ogr.Open(out.stats_table)
        rows = {f["class_id"]: f for f in table.GetLayer(0)}
        assert rows[7]["area_ha"] == pytest.approx(0.12) and rows[7]["class_name"] == "High severity"
