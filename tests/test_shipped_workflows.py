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
from qgis.core import QgsApplication
from qgis_process_runner import QGIS_PROCESS
from rasters import read, write_raster

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SHIPPED = ("burn_severity_report",)


def _features(path: Path) -> list[dict]:
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    return [{**f.items(), "geometry_area": f.GetGeometryRef().GetArea()} for f in layer]


def _run(env: dict, route: str, name: str, params: dict) -> dict:
    target = f"changelens:{name}" if route == "id" else str(WORKFLOWS / f"{name}.model3")
    args = [QGIS_PROCESS, "--json", "run", target, "--"] + [f"{k}={v}" for k, v in params.items()]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
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


def test_generator_reproduces_the_shipped_files(tmp_path) -> None:  # noqa: ANN001
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_workflows.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    for name in SHIPPED:
        assert f"wrote {tmp_path / name}.model3" in proc.stdout, proc.stdout + proc.stderr
        made, shipped = (ET.canonicalize(from_file=str(folder / f"{name}.model3")) for folder in (tmp_path, WORKFLOWS))
        assert made == shipped, f"{name}.model3 is out of date: run tools/make_workflows.py"


@pytest.mark.parametrize("route", ["id", "path"])
def test_burn_severity_report(qgis_process_env, tmp_path, route) -> None:  # noqa: ANN001
    pre = np.stack([np.full((40, 50), 4000, np.float32), np.full((40, 50), 1000, np.float32)])
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
