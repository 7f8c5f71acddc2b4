"""The ``changelens`` command writes what ``qgis_process`` writes: the same rasters (pixel for pixel), polygons,
area table and report (which differs only in its map previews: QGIS draws them in QGIS, the command line with
numpy and GDAL), for every declared method, on tiny generated scenes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from outputs_compare import (
    assert_same_raster,
    assert_same_vector,
    normalised_report,
    report_images,
    run_cli,
)
from qgis_process_runner import run_algorithm
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


def _qgis_value(value: object) -> object:
    return {"s2_dn": 1, "otsu": 0}.get(value, value) if isinstance(value, str) else value  # enums by number here


@pytest.mark.parametrize("method", ["burnseverity", "sarflood", "opticalflood", "landslide", "cva", "vegetationloss"])
def test_cli_writes_what_qgis_process_writes(method: str, tmp_path, qgis_process_env) -> None:  # noqa: ANN001
    inputs, rasters = _scene(method, tmp_path)
    outputs = {**rasters, **SHARED}
    (tmp_path / "qgis").mkdir()
    (tmp_path / "cli").mkdir()
    params = {k: str(_qgis_value(v)).lower() if isinstance(v, bool) else _qgis_value(v) for k, v in inputs.items()}
    params.update({k: tmp_path / "qgis" / v for k, v in outputs.items()})
    code, _payload, log = run_algorithm(qgis_process_env, f"changelens:{method}", params)
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
