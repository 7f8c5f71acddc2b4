"""Shared map outputs through the burn severity algorithm: processing.run and qgis_process.bin."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pytest
from osgeo import ogr
from qgis.core import QgsProject, QgsVectorLayer
from qgis_process_runner import run_algorithm
from rasters import WGS84, read, write_raster
from scenes import burn_scene

ALG = "changelens:burnseverity"
BREAKS = (-0.251, -0.101, 0.099, 0.269, 0.439, 0.659)


def _hand_classes(pre: str, post: str) -> np.ndarray:
    """Severity classes computed here from the input DNs (bands B8 = 4, B12 = 5)."""
    a, b = read(pre).astype(np.float64) / 1e4, read(post).astype(np.float64) / 1e4
    nbr = lambda img: (img[3] - img[4]) / (img[3] + img[4])  # noqa: E731
    return np.searchsorted(np.array(BREAKS), nbr(a) - nbr(b), side="left") + 1


def _polygon_areas(path: str) -> dict[int, float]:
    ds = ogr.Open(path)
    areas: dict[int, float] = {}
    for feature in ds.GetLayer(0):
        areas[feature["class_id"]] = areas.get(feature["class_id"], 0.0) + feature["area_ha"]
    return areas


def _class_areas(result: dict) -> dict[int, dict]:
    return {row["class_id"]: row for row in json.loads(result["CLASS_AREAS"])}


def _assert_agree(raster: dict[int, dict], polygons: dict[int, float], classes=(4, 5, 6, 7)) -> None:  # noqa: ANN001
    for value in classes:
        expected = raster[value]["area_ha"]
        got = polygons.get(value, 0.0)
        assert got == pytest.approx(expected, rel=0.005, abs=1e-9), (value, got, expected)


def _outputs(tmp_path, name: str = "p") -> dict:  # noqa: ANN001
    return {
        "OUTPUT_DNBR": str(tmp_path / "dnbr.tif"),
        "OUTPUT_SEVERITY": str(tmp_path / "severity.tif"),
        "OUTPUT_POLYGONS": str(tmp_path / f"{name}.gpkg"),
        "OUTPUT_STATS": str(tmp_path / f"{name}.csv"),
        "OUTPUT_REPORT": str(tmp_path / f"{name}.html"),
        "OUTPUT_REPORT_PDF": str(tmp_path / f"{name}.pdf"),
        "MIN_AREA_PIXELS": 0,  # the hand-computed classes have no minimum mapping unit
    }


def test_processing_run_raster_polygons_table_report(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    result = processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(tmp_path)})
    hand = _hand_classes(pre, post)
    raster = _class_areas(result)
    for value in range(1, 8):
        assert raster[value]["pixels"] == int((hand == value).sum())
        assert raster[value]["area_ha"] == pytest.approx((hand == value).sum() * 100 / 1e4)
    assert np.array_equal(read(result["OUTPUT_SEVERITY"]), hand)
    polygons = _polygon_areas(result["OUTPUT_POLYGONS"])
    _assert_agree(raster, polygons)
    assert set(polygons) <= {4, 5, 6, 7} and result["POLYGON_COUNT"] > 5
    assert result["MAPPED_AREA_HA"] == pytest.approx(result["BURNED_AREA_HA"])
    with open(result["OUTPUT_STATS"], newline="") as handle:
        table = {int(r["class_id"]): r for r in csv.DictReader(handle)}
    assert float(table[7]["area_ha"]) == pytest.approx(raster[7]["area_ha"], abs=1e-6)
    assert sum(int(r["polygons"]) for r in table.values()) == result["POLYGON_COUNT"]
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    assert html.count("data:image/png;base64,") == 3 and "threshold 0.099" in html
    assert 'src="http' not in html and "<script" not in html  # one self-contained file
    pdf = open(result["OUTPUT_REPORT_PDF"], "rb").read()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1
    assert len(pdf) > 50_000  # the three map images are embedded


def test_minimum_mapping_unit_sieves_the_class_raster(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    plain = processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(tmp_path)})
    (tmp_path / "mmu").mkdir()
    sieved = processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(tmp_path / "mmu"), "MIN_AREA_M2": 1000})
    assert sieved["POLYGON_COUNT"] < plain["POLYGON_COUNT"]
    raster = _class_areas(sieved)
    classes = read(sieved["OUTPUT_SEVERITY"])
    for value in range(1, 8):
        assert raster[value]["pixels"] == int((classes == value).sum())
    _assert_agree(raster, _polygon_areas(sieved["OUTPUT_POLYGONS"]))
    ds = ogr.Open(sieved["OUTPUT_POLYGONS"])
    assert min(f["area_ha"] for f in ds.GetLayer(0)) >= 0.1 - 1e-9


def _cell_area_m2(lat0: float, lat1: float, dlon_deg: float) -> float:
    """Ellipsoidal (WGS 84) area of a lat/lon cell by Simpson integration of M N cos(lat)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lats = np.linspace(math.radians(lat0), math.radians(lat1), 201)
    w = 1 - e2 * np.sin(lats) ** 2
    g = (a * (1 - e2) / w**1.5) * (a / np.sqrt(w)) * np.cos(lats)
    h = (lats[-1] - lats[0]) / 200
    return abs(h / 3 * (g[0] + g[-1] + 4 * g[1:-1:2].sum() + 2 * g[2:-1:2].sum())) * math.radians(dlon_deg)


def test_geographic_inputs_give_ellipsoidal_areas(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    rows, cols, lat0, step = 40, 50, 45.2, 0.0005
    pre = np.stack([np.full((rows, cols), 4000, np.float32), np.full((rows, cols), 1000, np.float32)])
    post = pre.copy()
    post[0, 5:25, 10:30] = 1500  # a 20 x 20 pixel high-severity square
    post[1, 5:25, 10:30] = 2500
    gt = (7.0, step, 0.0, lat0, 0.0, -step)
    a = write_raster(tmp_path / "pre.tif", pre, epsg=WGS84, geotransform=gt, descriptions=["B8", "B12"])
    b = write_raster(tmp_path / "post.tif", post, epsg=WGS84, geotransform=gt, descriptions=["B8", "B12"])
    result = processing.run(ALG, {"PRE": a, "POST": b, "RADIOMETRY": 1, **_outputs(tmp_path)})  # DN / 10000
    hand_ha = sum(20 * _cell_area_m2(lat0 - step * r, lat0 - step * (r + 1), step) for r in range(5, 25)) / 1e4
    raster = _class_areas(result)
    assert raster[7]["area_ha"] == pytest.approx(hand_ha, rel=1e-6)
    polygons = _polygon_areas(result["OUTPUT_POLYGONS"])
    assert polygons[7] == pytest.approx(hand_ha, rel=1e-6)
    _assert_agree(raster, polygons)


def test_qgis_process_outputs_and_gpkg_style(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    pre, post = burn_scene(tmp_path)
    code, payload, log = run_algorithm(
        qgis_process_env, ALG, {"PRE": pre, "POST": post, **_outputs(tmp_path, "cli"), "MIN_AREA_M2": 300}
    )
    assert code == 0, log
    assert "ERROR 4" not in log, log  # GDAL writing a preview VRT after its folder was removed
    results = payload["results"]
    raster = _class_areas(results)
    classes = read(tmp_path / "severity.tif")
    assert raster[7]["pixels"] == int((classes == 7).sum())
    _assert_agree(raster, _polygon_areas(str(tmp_path / "cli.gpkg")))
    assert (tmp_path / "cli.csv").exists() and (tmp_path / "cli.html").exists()
    # The GeoPackage opens styled in a fresh project: categorized on class_id with the class colours.
    project = QgsProject()
    layer = QgsVectorLayer(str(tmp_path / "cli.gpkg"), "polygons", "ogr")
    assert layer.isValid()
    project.addMapLayer(layer)
    renderer = layer.renderer()
    assert renderer.type() == "categorizedSymbol" and renderer.classAttribute() == "class_id"
    categories = {int(c.value()): c for c in renderer.categories()}
    assert sorted(categories) == [4, 5, 6, 7]
    assert categories[7].label() == "High severity"
    assert categories[4].symbol().color().name() == "#fff70b"
    assert categories[7].symbol().symbolLayer(0).strokeColor().name() != categories[7].symbol().color().name()
    project.clear()


def test_desktop_run_loads_styled_polygons(provider, qgis_iface, tmp_path) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(ALG, {"PRE": pre, "POST": post, **_outputs(tmp_path, "desk")})
    layers = {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}
    polygons = layers["Burn severity (dNBR) polygons"]
    assert polygons.renderer().type() == "categorizedSymbol" and len(polygons.renderer().categories()) == 4
    assert "Burn severity (dNBR) areas" in layers
    QgsProject.instance().removeAllMapLayers()


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("OUTPUT_POLYGONS", "missing_folder/p.gpkg", "does not exist"),
        ("OUTPUT_POLYGONS", "p.xyz", "Cannot tell which vector format"),
        ("OUTPUT_STATS", "areas.pdf", "Cannot write a table"),
        ("MIN_AREA_M2", -5, "MIN_AREA_M2"),
    ],
)
def test_bad_outputs_fail_before_any_work(provider, tmp_path, param, value, message) -> None:  # noqa: ANN001
    import os

    from qgis.core import QgsProcessingException

    import processing

    pre, post = burn_scene(tmp_path)
    params = {"PRE": pre, "POST": post, **_outputs(tmp_path)}
    params[param] = str(tmp_path / value) if isinstance(value, str) else value
    with pytest.raises(QgsProcessingException, match=message):
        processing.run(ALG, params)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(("dnbr", "severity", "p."))]


def test_clean_up_options_reach_the_core(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    params = {
        "PRE": pre,
        "POST": post,
        **_outputs(tmp_path),
        "OUTPUT_POLYGONS": str(tmp_path / "polygons.shp"),
        "INCLUDE_BACKGROUND": True,
        "EIGHT_CONNECTED": True,
        "FILL_HOLES": True,
        "SIMPLIFY_TOLERANCE": 5.0,
    }
    result = processing.run(ALG, params)
    ds = ogr.Open(result["OUTPUT_POLYGONS"])
    features = list(ds.GetLayer(0))
    assert 3 in {f["class_id"] for f in features}  # the unburned background is polygonised too
    for feature in features:
        multi = ogr.ForceToMultiPolygon(feature.GetGeometryRef().Clone())
        assert all(multi.GetGeometryRef(i).GetGeometryCount() == 1 for i in range(multi.GetGeometryCount()))
    assert (tmp_path / "polygons.qml").exists()
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    assert "8 (through corners)" in html and "5 map units" in html
