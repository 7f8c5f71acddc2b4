"""The shipped workflows (workflows/*.model3): registered, reproducible, and right end to end.

Each workflow runs through ``qgis_process.bin`` once by its registered id and once by its
``.model3`` path, on rasters made here, and its final outputs are checked against the scene:
class pixels, polygon areas, the dissolved outline or grid summary, and the report file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from osgeo import ogr
from qgis.core import QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingModelChildParameterSource
from qgis_process_runner import run_qgis_process
from rasters import read, write_raster
from scenes import BARE, VEGETATION, s2_image, slope_dem

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SHIPPED = ("burn_severity_report", "flood_rapid_mapping", "change_hotspots", "landslide_inventory")
# The output names the README documents (``<step>:<output>``), the same on every QGIS version.
DOCUMENTED_OUTPUTS = {
    "burn_severity_report": {
        "burn:severity", "burn:dnbr", "burn:polygons", "burn:areas", "burn:report", "outline:perimeter",
    },
    "flood_rapid_mapping": {
        "flood:extent", "flood:polygons", "flood:measure", "flood:areas", "flood:report", "outline:outline",
    },
    "landslide_inventory": {
        "slides:landslides", "slides:polygons", "slides:areas", "slides:report", "points:inventory", "outline:outline",
    },
    "change_hotspots": {"change:change", "change:polygons", "change:areas", "change:report", "hotspots:cells"},
}  # fmt: skip


def _features(path: Path) -> list[dict]:
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    return [{**f.items(), "geometry_area": f.GetGeometryRef().GetArea()} for f in layer]


def _run(env: dict, route: str, name: str, params: dict) -> dict:
    target = f"changelens:{name}" if route == "id" else str(WORKFLOWS / f"{name}.model3")
    proc = run_qgis_process(["--json", "run", target, "--", *(f"{k}={v}" for k, v in params.items())], env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)["results"]


def test_shipped_workflows_are_registered(provider) -> None:  # noqa: ANN001
    registry = QgsApplication.processingRegistry()
    assert sorted(p.stem for p in WORKFLOWS.glob("*.model3")) == sorted(SHIPPED)
    for name in SHIPPED:
        alg = registry.algorithmById(f"changelens:{name}")
        assert alg is not None and alg.group() == "Workflows", name
        assert alg.canExecute()[0] and alg.shortHelpString(), name
        children = {c.algorithmId().split(":")[0] for c in alg.childAlgorithms().values()}
        assert children <= {"changelens", "native"} and "changelens" in children, name


def _load(path: Path) -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path)), path
    return model


def _canonical(model: QgsProcessingModelAlgorithm, path: Path) -> str:
    """The model as this QGIS writes it (derived output definitions refreshed from its steps), canonical XML."""
    assert model.toFile(str(path))
    return ET.canonicalize(from_file=str(path))


def _without_newer_defaults(
    made: QgsProcessingModelAlgorithm, shipped: QgsProcessingModelAlgorithm
) -> QgsProcessingModelAlgorithm:
    """``made`` less the step values that only a newer QGIS knows and that hold its default (``SEPARATE_DISJOINT``
    of ``native:dissolve`` from 3.40): the generator writes every default, the shipped files were made on 3.22."""
    variant = made.toVariant()
    for child_id, child in made.childAlgorithms().items():
        known = shipped.childAlgorithm(child_id).parameterSources()
        for name, values in child.parameterSources().items():
            definition = child.algorithm().parameterDefinition(name)
            default = QgsProcessingModelChildParameterSource.fromStaticValue(definition.defaultValue())
            if name not in known and values == [default]:
                del variant["children"][child_id]["params"][name]
    again = QgsProcessingModelAlgorithm()
    assert again.loadVariant(variant)
    return again


def test_generator_reproduces_the_shipped_files(provider, tmp_path) -> None:  # noqa: ANN001
    made = tmp_path / "made"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_workflows.py"), "--out", str(made)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in SHIPPED:
        ours, shipped = _load(made / f"{name}.model3"), _load(WORKFLOWS / f"{name}.model3")
        ours = _without_newer_defaults(ours, shipped)
        assert _canonical(ours, tmp_path / f"made_{name}.model3") == _canonical(shipped, tmp_path / f"{name}.model3"), (
            f"{name}.model3 is out of date: run tools/make_workflows.py"
        )
        assert {d.name() for d in shipped.destinationParameterDefinitions()} == DOCUMENTED_OUTPUTS[name]


@pytest.mark.parametrize("route", ["id", "path"])
def test_burn_severity_report(qgis_process_env, tmp_path, route) -> None:  # noqa: ANN001
    pre = np.stack([np.full((40, 50), 4000, np.float32), np.full((40, 50), 900, np.float32)])  # < 1000 DN: no offset
    post = pre.copy()
    post[:, 5:15, 5:25] = np.array([1500, 2500], np.float32)[:, None, None]  # high severity, 200 px = 2 ha
    post[:, 20:30, 30:40] = np.array([3000, 2000], np.float32)[:, None, None]  # dNBR 0.4: moderate-low, 1 ha
    post[:, 35, 45] = [1500, 2500]  # one 100 m² pixel: below the 900 m² default mapping unit
    a = write_raster(tmp_path / "pre.tif", pre, descriptions=["B8", "B12"])
    b = write_raster(tmp_path / "post.tif", post, descriptions=["B8", "B12"])
    out = {
        "burn:severity": tmp_path / "severity.tif",
        "burn:dnbr": tmp_path / "dnbr.tif",
        "burn:polygons": tmp_path / "regions.gpkg",
        "burn:report": tmp_path / "report.html",
        "outline:perimeter": tmp_path / "perimeter.gpkg",
    }
    results = _run(qgis_process_env, route, "burn_severity_report", {"pre": a, "post": b, **out})
    assert results["burn:areas"] is None  # optional outputs are skipped when not asked for
    counts = np.bincount(read(out["burn:severity"]).ravel(), minlength=8)
    assert (counts[7], counts[5], counts[4], counts[6]) == (200, 100, 0, 0)  # the speck was sieved away
    regions = sorted(_features(out["burn:polygons"]), key=lambda f: f["class_id"])
    assert [(f["class_id"], f["area_ha"]) for f in regions] == [(5, pytest.approx(1.0)), (7, pytest.approx(2.0))]
    (perimeter,) = _features(out["outline:perimeter"])
    assert perimeter["burned_ha"] == pytest.approx(3.0) and perimeter["polygons"] == 2
    assert perimeter["geometry_area"] == pytest.approx(30000.0)
    html = out["burn:report"].read_text(encoding="utf-8")
    assert "<html" in html.lower() and "High severity" in html


@pytest.mark.parametrize("route", ["id", "path"])
def test_flood_rapid_mapping(qgis_process_env, tmp_path, route) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    before = -8 + rng.normal(0, 0.5, (60, 60))
    after = -8 + rng.normal(0, 0.5, (60, 60))
    before[:10] = after[:10] = -22 + rng.normal(0, 0.5, (10, 60))  # a lake on both dates: permanent water
    after[20:40, 10:40] = -22 + rng.normal(0, 0.5, (20, 30))  # the flood: 600 px = 6 ha
    after[50, 50] = -22  # one dark pixel: below the 1000 m² default mapping unit
    a = write_raster(tmp_path / "before.tif", before.astype(np.float32), descriptions=["VV"])
    b = write_raster(tmp_path / "after.tif", after.astype(np.float32), descriptions=["VV"])
    out = {
        "flood:extent": tmp_path / "extent.tif",
        "flood:polygons": tmp_path / "regions.gpkg",
        "flood:report": tmp_path / "report.html",
        "outline:outline": tmp_path / "outline.gpkg",
    }
    _run(qgis_process_env, route, "flood_rapid_mapping", {"before": a, "after": b, **out})
    extent = read(out["flood:extent"])
    flooded = extent == 2
    assert flooded[20:40, 10:40].mean() > 0.95 and flooded.sum() == pytest.approx(600, abs=20)
    assert not flooded[50, 50] and (extent[:10] == 3).mean() > 0.95
    regions = _features(out["flood:polygons"])
    assert len(regions) == 1 and regions[0]["area_ha"] == pytest.approx(flooded.sum() / 100)
    (outline,) = _features(out["outline:outline"])
    assert outline["flooded_ha"] == pytest.approx(flooded.sum() / 100) and outline["polygons"] == 1
    assert "Flooded" in out["flood:report"].read_text(encoding="utf-8")


@pytest.mark.parametrize("route", ["id", "path"])
def test_change_hotspots(qgis_process_env, tmp_path, route) -> None:  # noqa: ANN001
    rng = np.random.default_rng(2)
    date1 = 1000 + rng.normal(0, 20, (3, 100, 100))
    date2 = 1000 + rng.normal(0, 20, (3, 100, 100))
    date2[:, 10:30, 10:30] += 600  # 4 ha in the north-west 500 m cell
    date2[:, 60:70, 70:80] += 600  # 1 ha in the south-east cell
    date2[:, 5, 90] += 600  # one pixel: below the 500 m² default mapping unit
    a = write_raster(tmp_path / "d1.tif", date1.astype(np.float32), descriptions=["B2", "B3", "B4"])
    b = write_raster(tmp_path / "d2.tif", date2.astype(np.float32), descriptions=["B2", "B3", "B4"])
    out = {
        "change:change": tmp_path / "change.tif",
        "change:polygons": tmp_path / "regions.gpkg",
        "change:report": tmp_path / "report.html",
        "hotspots:cells": tmp_path / "cells.gpkg",
    }
    _run(qgis_process_env, route, "change_hotspots", {"date1": a, "date2": b, **out})
    changed = read(out["change:change"]) == 2
    assert changed[10:30, 10:30].mean() > 0.95 and changed[60:70, 70:80].mean() > 0.9 and not changed[5, 90]
    regions = _features(out["change:polygons"])
    assert sum(f["area_ha"] for f in regions) == pytest.approx(changed.sum() / 100)
    cells = sorted(_features(out["hotspots:cells"]), key=lambda f: (-f["top"], f["left"]))
    assert [(c["left"], c["top"]) for c in cells] == [(500000.0, 5100000.0), (500500.0, 5099500.0)]
    assert cells[0]["changed_ha"] == pytest.approx(changed[:50, :50].sum() / 100)
    assert cells[1]["changed_ha"] == pytest.approx(changed[50:, 50:].sum() / 100)
    for cell in cells:
        assert cell["changed_pct"] == pytest.approx(100 * cell["changed_ha"] / 25.0, abs=1e-3)
    assert out["change:report"].stat().st_size > 1000


@pytest.mark.parametrize("route", ["id", "path"])
def test_landslide_inventory(qgis_process_env, tmp_path, route) -> None:  # noqa: ANN001
    before = s2_image(tmp_path, "before.tif", VEGETATION)
    scar = ((slice(5, 15), slice(32, 38)), BARE)  # 60 px = 0.6 ha on the steep side
    flat = ((slice(20, 30), slice(2, 12)), BARE)  # a harvest on flat ground: not a landslide
    speck = ((slice(35, 37), slice(33, 35)), BARE)  # 400 m² on the slope: below the 500 m² default
    after = s2_image(tmp_path, "after.tif", VEGETATION, [scar, flat, speck])
    out = {
        "slides:landslides": tmp_path / "landslides.tif",
        "slides:polygons": tmp_path / "polygons.gpkg",
        "slides:report": tmp_path / "report.html",
        "points:inventory": tmp_path / "inventory.gpkg",
        "outline:outline": tmp_path / "outline.gpkg",
    }
    params = {"before": before, "after": after, "dem": slope_dem(tmp_path), **out}
    _run(qgis_process_env, route, "landslide_inventory", params)
    expected = np.ones((40, 40), np.uint8)
    expected[5:15, 32:38] = 2
    assert np.array_equal(read(out["slides:landslides"]), expected)
    (polygon,) = _features(out["slides:polygons"])
    assert polygon["class_name"] == "New landslide" and polygon["area_ha"] == pytest.approx(0.6)
    (point,) = _features(out["points:inventory"])
    assert point["area_ha"] == pytest.approx(0.6)
    (outline,) = _features(out["outline:outline"])
    assert outline["landslide_ha"] == pytest.approx(0.6) and outline["polygons"] == 1
    assert "New landslide" in out["slides:report"].read_text(encoding="utf-8")
