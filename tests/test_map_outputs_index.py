"""Shared map outputs (polygons, statistics, report) for every index method: processing.run and qgis_process."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from osgeo import ogr
from qgis.core import QgsProject, QgsVectorLayer
from qgis_process_runner import run_algorithm
from rasters import read, write_raster
from scenes import BARE, S2_VNIR, VEGETATION, WATER, s2_image, sar_pair, slope_dem


def _case(name: str, folder) -> tuple[dict, str, float]:  # noqa: ANN001
    """Inputs, the measure output's parameter, and the hand-computed mapped area (ha) of each scene."""
    if name == "sarflood":
        before, after = sar_pair(folder)
        # Lower half flooded, minus the river (6 columns) and the steep band from column 30: 20 x 24 pixels.
        return {"BEFORE": before, "AFTER": after, "DEM": slope_dem(folder), "FILTER": 3}, "OUTPUT_MEASURE", 4.80
    if name == "opticalflood":
        before = s2_image(folder, "b.tif", VEGETATION, [((slice(0, 40), slice(0, 5)), WATER)], noise=20)
        img = np.stack([np.full((40, 40), v, np.float32) for v in VEGETATION])
        img[:, :, :5] = np.array(WATER, np.float32)[:, None, None]
        img[:, 20:, :] = np.array(WATER, np.float32)[:, None, None]
        scl = np.full((1, 40, 40), 4, np.float32)
        scl[0, 30:, 30:] = 9  # cloud: no data
        after = write_raster(folder / "a.tif", np.concatenate([img, scl]), descriptions=[*S2_VNIR, "SCL"])
        # New water: rows 20-39 east of the lake (35 columns) minus the 10 x 10 cloud = 600 pixels.
        return {"BEFORE": before, "AFTER": after}, "OUTPUT_INDEX", 6.00
    if name == "landslide":
        before = s2_image(folder, "b.tif", VEGETATION)
        after = s2_image(folder, "a.tif", VEGETATION, [((slice(5, 15), slice(32, 38)), BARE)])
        return {"BEFORE": before, "AFTER": after, "DEM": slope_dem(folder)}, "OUTPUT_NDVI_DROP", 0.60
    rng = np.random.default_rng(5)
    d1 = rng.normal(1000, 20, (2, 30, 30)).astype(np.float32)
    d2 = d1 * 1.3 + 50
    d2[0, :10, :10] += 600
    a = write_raster(folder / "d1.tif", d1, descriptions=["B4", "B8"])
    b = write_raster(folder / "d2.tif", d2, descriptions=["B4", "B8"])
    return {"DATE1": a, "DATE2": b, "NORMALISATION": 0, "SMOOTH": 1}, "OUTPUT_MAGNITUDE", 1.00


ALGORITHMS = ["sarflood", "opticalflood", "landslide", "cva"]


def _outputs(folder, measure: str) -> dict:  # noqa: ANN001
    return {
        "OUTPUT": str(folder / "classes.tif"),
        measure: str(folder / "measure.tif"),
        "OUTPUT_POLYGONS": str(folder / "polygons.gpkg"),
        "OUTPUT_STATS": str(folder / "areas.csv"),
        "OUTPUT_REPORT": str(folder / "report.html"),
    }


def _check(results: dict, folder, hand_ha: float) -> None:  # noqa: ANN001
    rows = {r["class_id"]: r for r in json.loads(results["CLASS_AREAS"])}
    classes = read(folder / "classes.tif")
    for value, row in rows.items():
        assert row["pixels"] == int((classes == value).sum())
    ds = ogr.Open(str(folder / "polygons.gpkg"))
    polygon_ha: dict[int, float] = {}
    for feature in ds.GetLayer(0):
        polygon_ha[feature["class_id"]] = polygon_ha.get(feature["class_id"], 0.0) + feature["area_ha"]
        assert feature.GetFieldIndex("perimeter_m") >= 0 and feature["pixels"] > 0
    assert sum(polygon_ha.values()) == pytest.approx(hand_ha, rel=1e-9)
    assert results["MAPPED_AREA_HA"] == pytest.approx(hand_ha, rel=1e-9)
    for value, area in polygon_ha.items():
        assert area == pytest.approx(rows[value]["area_ha"], rel=0.005)
    html = open(folder / "report.html", encoding="utf-8").read()
    assert html.count("data:image/png;base64,") >= 2 and "Area by class" in html and "threshold" in html
    assert os.path.getsize(folder / "areas.csv") > 0


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_processing_run_gives_raster_polygons_table_report(provider, tmp_path, alg) -> None:  # noqa: ANN001
    import processing

    params, measure, hand_ha = _case(alg, tmp_path)
    results = processing.run(f"changelens:{alg}", {**params, **_outputs(tmp_path, measure)})
    _check(results, tmp_path, hand_ha)
    assert results["POLYGON_COUNT"] == 1


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_qgis_process_gives_styled_polygons(qgis_process_env, tmp_path, alg) -> None:  # noqa: ANN001
    params, measure, hand_ha = _case(alg, tmp_path)
    code, payload, log = run_algorithm(qgis_process_env, f"changelens:{alg}", {**params, **_outputs(tmp_path, measure)})
    assert code == 0, log
    _check(payload["results"], tmp_path, hand_ha)
    project = QgsProject()
    layer = QgsVectorLayer(str(tmp_path / "polygons.gpkg"), "polygons", "ogr")
    project.addMapLayer(layer)
    assert layer.renderer().type() == "categorizedSymbol"
    assert [c.label() for c in layer.renderer().categories()] in (["Flooded"], ["New landslide"], ["Change"])
    project.clear()
