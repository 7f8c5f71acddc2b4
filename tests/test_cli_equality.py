"""The ``changelens`` command writes what ``qgis_process`` writes: the same rasters (pixel for pixel), polygons,
area table and report (which differs only in its map previews: QGIS draws them in QGIS, the command line with
numpy and GDAL), for every declared method, on tiny generated scenes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from changelens.core.methods import method_by_id
from changelens.core.methods.declaration import Choice
from outputs_compare import (
    assert_same_raster,
    assert_same_vector,
    normalised_report,
    report_images,
    run_cli,
)
from qgis_process_runner import run_algorithm
from rasters import write_raster
from scenes import BARE, VEGETATION, WATER, burn_scene, s2_image, sar_pair, slope_dem

SHARED = {"OUTPUT_POLYGONS": "polygons.gpkg", "OUTPUT_STATS": "stats.csv", "OUTPUT_REPORT": "report.html"}


def _scene(method: str, folder: Path) -> tuple[dict, dict]:
    """Inputs and options of one method, and its raster outputs (file names)."""
    flood = ((slice(10, 30), slice(5, 35)), WATER)
    if method == "burnseverity":
        pre, post = burn_scene(folder)
        return {"PRE": pre, "POST": post, "MIN_AREA_M2": 500, "RADIOMETRY": "s2_dn"}, {
            "OUTPUT_DNBR": "dnbr.tif", "OUTPUT_SEVERITY": "severity.tif", "OUTPUT_RDNBR": "rdnbr.tif",
        }  # fmt: skip
    if method == "sarflood":
        before, after = sar_pair(folder)
        return {"BEFORE": before, "AFTER": after, "DEM": slope_dem(folder), "FILTER": 2}, {
            "OUTPUT": "flood.tif", "OUTPUT_MEASURE": "logratio.tif",
        }  # fmt: skip
    if method == "opticalflood":
        river = ((slice(None), slice(0, 4)), WATER)
        before = s2_image(folder, "before.tif", VEGETATION, (river,), noise=40)
        after = s2_image(folder, "after.tif", VEGETATION, (river, flood), noise=40)
        return {"BEFORE": before, "AFTER": after, "EIGHT_CONNECTED": True}, {
            "OUTPUT": "flood.tif", "OUTPUT_INDEX": "index.tif",
        }  # fmt: skip
    if method == "landslide":
        before = s2_image(folder, "before.tif", VEGETATION, noise=30)
        after = s2_image(folder, "after.tif", VEGETATION, (((slice(5, 25), slice(28, 38)), BARE),), noise=30)
        return {"BEFORE": before, "AFTER": after, "DEM": slope_dem(folder), "MIN_AREA": 300}, {
            "OUTPUT": "slides.tif", "OUTPUT_NDVI_DROP": "drop.tif",
        }  # fmt: skip
    if method == "cva":
        date1 = s2_image(folder, "t1.tif", VEGETATION, noise=60)
        date2 = s2_image(folder, "t2.tif", VEGETATION, (((slice(8, 22), slice(8, 30)), BARE),), noise=60)
        return {"DATE1": date1, "DATE2": date2, "BANDS": "B3,B4,B8", "THRESHOLD_METHOD": "otsu"}, {
            "OUTPUT": "change.tif", "OUTPUT_MAGNITUDE": "magnitude.tif",
        }  # fmt: skip
    before = s2_image(folder, "before.tif", VEGETATION, noise=50)
    after = s2_image(folder, "after.tif", VEGETATION, (((slice(0, 18), slice(10, 40)), BARE),), noise=50)
    return {"BEFORE": before, "AFTER": after, "MIN_AREA_M2": 400}, {
        "OUTPUT": "loss.tif", "OUTPUT_NDMI_DROP": "ndmi_drop.tif", "OUTPUT_NDVI_DROP": "ndvi_drop.tif",
    }  # fmt: skip


def _qgis_value(method: str, name: str, value: object) -> object:
    """qgis_process gets choices by number here (the command line by key), flags as true/false."""
    if isinstance(value, bool):
        return str(value).lower()
    declared = [p for p in method_by_id(method).params if p.name == name and isinstance(p, Choice)]
    return declared[0].keys.index(value) if declared and isinstance(value, str) else value


def _same_outputs(method: str, inputs: dict, rasters: dict, tmp_path: Path, env: object) -> None:
    """Run ``method`` through qgis_process and the command line; compare every output."""
    outputs = {**rasters, **SHARED}
    (tmp_path / "qgis").mkdir()
    (tmp_path / "cli").mkdir()
    params = {k: _qgis_value(method, k, v) for k, v in inputs.items()}
    params.update({k: tmp_path / "qgis" / v for k, v in outputs.items()})
    code, _payload, log = run_algorithm(env, f"changelens:{method}", params)
    assert code == 0, log
    args = [method, "--quiet"]
    for name, value in inputs.items():
        if isinstance(value, bool):
            args.append(("--" if value else "--no-") + name.lower().replace("_", "-"))
        else:
            args += ["--" + name.lower().replace("_", "-"), value]  # enums by key on the command line
    for name, file_name in outputs.items():
        args += ["--" + name, tmp_path / "cli" / file_name]  # the Processing spelling works too
    done = run_cli(args)
    assert done.returncode == 0, done.stderr + done.stdout
    assert sorted(os.listdir(tmp_path / "qgis")) == sorted(os.listdir(tmp_path / "cli"))
    for file_name in rasters.values():
        if (tmp_path / "qgis" / file_name).exists():
            assert_same_raster(str(tmp_path / "qgis" / file_name), str(tmp_path / "cli" / file_name))
    assert_same_vector(str(tmp_path / "qgis" / "polygons.gpkg"), str(tmp_path / "cli" / "polygons.gpkg"))
    assert (tmp_path / "qgis" / "stats.csv").read_text() == (tmp_path / "cli" / "stats.csv").read_text()
    qgis_report = normalised_report(str(tmp_path / "qgis" / "report.html"), str(tmp_path / "qgis"))
    cli_report = normalised_report(str(tmp_path / "cli" / "report.html"), str(tmp_path / "cli"))
    assert qgis_report == cli_report
    images = report_images((tmp_path / "cli" / "report.html").read_text())
    assert len(images) == 3 and all(png.startswith(b"\x89PNG") for png in images)


@pytest.mark.parametrize("method", ["burnseverity", "sarflood", "opticalflood", "landslide", "cva", "vegetationloss"])
def test_cli_writes_what_qgis_process_writes(method: str, tmp_path, qgis_process_env) -> None:  # noqa: ANN001
    inputs, rasters = _scene(method, tmp_path)
    _same_outputs(method, inputs, rasters, tmp_path, qgis_process_env)


def test_report_options_are_shared(tmp_path, qgis_process_env) -> None:  # noqa: ANN001
    """Event title, basemap (a raster file), minimum mapping unit in pixels, per-date reflectance and background
    polygons give the same outputs and the same report through both routes."""
    inputs, rasters = _scene("burnseverity", tmp_path)
    backdrop = np.zeros((3, 90, 120), np.uint8)
    backdrop[0], backdrop[1], backdrop[2] = 40, 90, 200
    basemap = write_raster(tmp_path / "backdrop.tif", backdrop, descriptions=["red", "green", "blue"])
    inputs.update(
        {
            "RADIOMETRY": "auto",
            "POST_RADIOMETRY": "s2_dn",
            "MIN_AREA_M2": 0,
            "MIN_AREA_PIXELS": 6,
            "INCLUDE_BACKGROUND": True,
            "EVENT_TITLE": "Hill fire, August 2023",
            "BASEMAP": basemap,
        }
    )
    _same_outputs("burnseverity", inputs, rasters, tmp_path, qgis_process_env)
    html = (tmp_path / "cli" / "report.html").read_text(encoding="utf-8")
    for expected in ("Hill fire, August 2023", "6 pixels", "Basemap", "backdrop"):
        assert expected in html, expected
