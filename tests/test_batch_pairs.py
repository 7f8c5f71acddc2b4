"""Runs over many scene pairs: pair discovery, class areas, the Processing algorithm and qgis_process."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from changelens.core.batch import discover_pairs, read_pair_list
from changelens.core.batch_summary import class_areas
from changelens.core.errors import InputError
from osgeo import gdal
from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback, QgsVectorLayer
from qgis_process_runner import run_qgis_process
from rasters import WGS84, read, trapezoid, write_raster

ALG = "changelens:manypairs"


def _burn_pair(folder: Path, pre_name: str, post_name: str, burned_rows: int) -> tuple[str, str]:
    """A 6 x 8 pair at 10 m whose top ``burned_rows`` rows burn at high severity (dNBR 0.88).

    Unburned SWIR2 is 900 DN: a value below 1000 tells the Sentinel-2 conversion there is no +1000 offset.
    """
    pre = np.stack([np.full((6, 8), 4000, np.float32), np.full((6, 8), 900, np.float32)])
    post = pre.copy()
    post[0, :burned_rows], post[1, :burned_rows] = 1500, 2500
    folder.mkdir(parents=True, exist_ok=True)
    a = write_raster(folder / pre_name, pre, descriptions=["B8", "B12"])
    b = write_raster(folder / post_name, post, descriptions=["B8", "B12"])
    return a, b


def _scenes(root: Path) -> Path:
    """Three pairs by the three layouts; pair 'c' is broken (its after image has one band)."""
    scenes = root / "scenes"
    _burn_pair(scenes / "a", "pre.tif", "post.tif", 3)  # 24 px x 100 m² = 0.24 ha high severity
    _burn_pair(scenes, "b_before.tif", "b_after.tif", 1)  # 8 px = 0.08 ha
    (scenes / "c").mkdir()
    write_raster(scenes / "c" / "pre.tif", np.ones((2, 6, 8), np.float32), descriptions=["B8", "B12"])
    write_raster(scenes / "c" / "post.tif", np.ones((1, 6, 8), np.float32))
    (scenes / "notes.txt").write_text("not a pair")
    return scenes


class _Recorder(QgsProcessingFeedback):
    """Records the log; cancels the run when a log line contains ``cancel_on``."""

    def __init__(self, cancel_on: str | None = None) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.infos: list[str] = []
        self.cancel_on = cancel_on

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.errors.append(error)

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.infos.append(info)
        if self.cancel_on and self.cancel_on in info:
            self.cancel()


def _summary(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- core ---------------------------------------------------------------------------------------


def test_discover_pairs_by_folder_and_siblings(tmp_path) -> None:  # noqa: ANN001
    scenes = _scenes(tmp_path)
    (scenes / "half").mkdir()
    write_raster(scenes / "half" / "before.tif", np.ones((2, 2, 2), np.float32))
    gdal.Translate(str(scenes / "x-t1.vrt"), str(scenes / "half" / "before.tif"), format="VRT")
    pairs = {p.name: p for p in discover_pairs(str(scenes))}
    assert sorted(pairs) == ["a", "b", "c", "half", "x"]
    assert pairs["a"].before.endswith("a/pre.tif") and pairs["a"].after.endswith("a/post.tif")
    assert pairs["b"].before.endswith("b_before.tif") and pairs["b"].problem is None
    assert "no after image in folder 'half'" in pairs["half"].problem
    assert "no after image in files 'x_*'" in pairs["x"].problem
    with pytest.raises(InputError, match="does not exist"):
        discover_pairs(str(tmp_path / "nowhere"))
    # The folder of one pair, chosen directly, is that pair.
    (single,) = discover_pairs(str(scenes / "a"))
    assert (single.name, single.problem) == ("a", None) and single.after.endswith("a/post.tif")


def test_read_pair_list(tmp_path) -> None:  # noqa: ANN001
    scenes = _scenes(tmp_path)
    listing = scenes / "pairs.csv"
    listing.write_text(
        "before;after;name\n# a comment\n\na/pre.tif;a/post.tif\n"
        f"{scenes / 'b_before.tif'}\t{scenes / 'b_after.tif'}\tfire b\nmissing.tif,a/post.tif,gone\njust-one-field\n"
    )
    pairs = read_pair_list(str(listing))
    assert [p.name for p in pairs] == ["a", "fire b", "gone", "line_7"]  # a space is safe in a folder name
    assert pairs[0].before == str(scenes / "a" / "pre.tif") and pairs[0].problem is None
    assert "before image" in pairs[2].problem and "does not exist" in pairs[2].problem
    assert "line 7" in pairs[3].problem


@pytest.mark.parametrize("epsg", [None, WGS84])
def test_class_areas_match_hand_computation(tmp_path, epsg) -> None:  # noqa: ANN001
    classes = np.zeros((300, 4), np.uint8)
    classes[:100], classes[100:250, :2], classes[250:, 3] = 1, 2, 7
    if epsg is None:
        path = write_raster(tmp_path / "c.tif", classes, nodata=0)
        expected = {1: 400 * 100 / 1e4, 2: 300 * 100 / 1e4, 7: 50 * 100 / 1e4}
    else:
        # 0.001° pixels from 60°N on WGS84: area = Δλ ∫ M(φ) N(φ) cos φ dφ, integrated numerically.
        gt = (10.0, 0.001, 0.0, 60.0, 0.0, -0.001)
        path = write_raster(tmp_path / "c.tif", classes, epsg=epsg, geotransform=gt, nodata=0)
        a, f = 6378137.0, 1 / 298.257223563
        e2 = f * (2 - f)

        def row(i: int) -> float:
            phi = np.radians(np.linspace(60 - 0.001 * (i + 1), 60 - 0.001 * i, 201))
            w = 1 - e2 * np.sin(phi) ** 2
            return float(trapezoid(a * (1 - e2) / w**1.5 * a / np.sqrt(w) * np.cos(phi), phi) * np.radians(0.001))

        expected = {
            1: 4 * sum(row(i) for i in range(100)) / 1e4,
            2: 2 * sum(row(i) for i in range(100, 250)) / 1e4,
            7: sum(row(i) for i in range(250, 300)) / 1e4,
        }
    ds = gdal.Open(path, gdal.GA_Update)
    ds.GetRasterBand(1).SetCategoryNames(["", "Low", "Moderate"])
    ds = None
    rows = {r["class_id"]: r for r in class_areas(path)}
    assert sorted(rows) == [1, 2, 7]
    assert rows[1]["class_name"] == "Low" and rows[7]["class_name"] == "7"
    assert [rows[v]["pixels"] for v in (1, 2, 7)] == [400, 300, 50]
    for value, area in expected.items():
        assert rows[value]["area_ha"] == pytest.approx(area, rel=1e-6)
    assert sum(r["percent"] for r in rows.values()) == pytest.approx(100.0)


# -- Processing ---------------------------------------------------------------------------------


def test_three_pairs_one_broken(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    scenes = _scenes(tmp_path)
    out = tmp_path / "out"
    feedback = _Recorder()
    result = processing.run(
        ALG,
        {
            "INPUT_FOLDER": str(scenes),
            "ALGORITHM": "burnseverity",
            "PARAMETERS": '{"OUTPUT_RBR": "rbr.tif"}',
            "OUTPUT_FOLDER": str(out),
            "OUTPUT_SUMMARY": str(tmp_path / "summary.gpkg"),
        },
        feedback=feedback,
    )
    assert (result["PAIR_COUNT"], result["SUCCEEDED"], result["FAILED"]) == (3, 2, 1)
    assert len(feedback.errors) == 1 and feedback.errors[0].startswith("Pair 'c' failed: ")
    assert "post-fire image has 1 band(s)" in feedback.errors[0]
    # Per-pair outputs with the output names; optional outputs only when asked.
    assert sorted(os.listdir(out)) == ["a", "b", "summary.csv"]
    assert {"dnbr.tif", "severity.tif", "rbr.tif"} <= set(os.listdir(out / "a"))
    assert "rdnbr.tif" not in os.listdir(out / "a")
    assert np.bincount(read(out / "a" / "severity.tif").ravel(), minlength=8)[7] == 24
    rows = _summary(result["SUMMARY_CSV"])
    high = {r["pair"]: float(r["area_ha"]) for r in rows if r["class"] == "High severity"}
    assert high == pytest.approx({"a": 0.24, "b": 0.08})
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["pair"] == "c" and "1 band(s)" in failed[0]["error"]
    assert {r["status"] for r in rows if r["pair"] != "c"} == {"ok"}
    # The same table as a GeoPackage table without geometry.
    valid, spatial, count, names = _table_facts(tmp_path / "summary.gpkg")
    assert valid and not spatial and count == len(rows)
    assert names[-12:] == list(rows[0].keys())


def _table_facts(path) -> tuple[bool, bool, int, list[str]]:  # noqa: ANN001
    """Plain facts about a table, read without leaving a QGIS layer alive in the test's frame.

    A layer that outlives QGIS (the test frame can be kept until interpreter exit) crashes
    the interpreter on exit.
    """
    table = QgsVectorLayer(str(path), "summary")
    return table.isValid(), table.isSpatial(), table.featureCount(), [f.name() for f in table.fields()]


def test_cancel_stops_before_the_next_pair(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    scenes = _scenes(tmp_path)
    feedback = _Recorder(cancel_on="Pair 2/3")  # cancelled as pair b starts
    result = processing.run(
        ALG,
        {"INPUT_FOLDER": str(scenes), "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_SUMMARY": "TEMPORARY_OUTPUT"},
        feedback=feedback,
    )
    rows = _summary(result["SUMMARY_CSV"])
    assert {r["pair"]: r["status"] for r in rows} == {"a": "ok", "b": "cancelled", "c": "cancelled"}
    assert (result["SUCCEEDED"], result["FAILED"]) == (1, 2)
    assert sorted(os.listdir(tmp_path / "out")) == ["a", "summary.csv"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ALGORITHM": "changelens:nosuch"}, "There is no algorithm 'changelens:nosuch'; ChangeLens offers: "),
        ({"PARAMETERS": "{MIN: 1"}, "The extra parameters are not valid JSON"),
        ({"PARAMETERS": '{"NOPE": 1}'}, "'changelens:burnseverity' has no parameter NOPE"),
        ({"ALGORITHM": "manypairs"}, "cannot run itself"),
        ({"PARAMETERS": '{"OUTPUT_DNBR": null}'}, "OUTPUT_DNBR (dNBR) cannot be skipped"),
        ({"PARAMETERS": '{"RESAMPLING": 9}'}, "9 is not a valid value for RESAMPLING"),
        ({"ALGORITHM": "native:buffer"}, "does not take two raster inputs"),
        ({"INPUT_FOLDER": None}, "Give a folder of scene pairs or a list of pairs"),
    ],
)
def test_bad_set_up_is_one_clear_error(provider, tmp_path, change, message) -> None:  # noqa: ANN001
    import processing

    params = {
        "INPUT_FOLDER": str(_scenes(tmp_path)),
        "OUTPUT_FOLDER": str(tmp_path / "out"),
        "OUTPUT_SUMMARY": "TEMPORARY_OUTPUT",
    }
    params.update(change)
    with pytest.raises(QgsProcessingException, match=re.escape(message)):
        processing.run(ALG, params, context=QgsProcessingContext())
    assert not (tmp_path / "out").exists()


def _qgis_process_version() -> tuple[int, int]:
    proc = run_qgis_process(["--version"], timeout=60)
    found = re.search(r"QGIS (\d+)\.(\d+)", proc.stdout + proc.stderr)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _job(root: Path) -> Path:
    """The README's job file: a pair list with one broken pair, extra parameters as a JSON object."""
    _scenes(root)
    (root / "pairs.txt").write_text(
        "# before,after,name\nscenes/a/pre.tif,scenes/a/post.tif,fire_a\n"
        "scenes/b_before.tif,scenes/b_after.tif,fire_b\nscenes/c/pre.tif,scenes/c/post.tif,broken\n"
    )
    job = {
        "inputs": {
            "PAIR_LIST": "pairs.txt",
            "ALGORITHM": "changelens:burnseverity",
            "PARAMETERS": {"RESAMPLING": 0, "OUTPUT_RDNBR": "rdnbr.tif", "OUTPUT_RBR": None},
            "OUTPUT_FOLDER": "out",
            "OUTPUT_SUMMARY": "summary.csv",
        }
    }
    (root / "job.json").write_text(json.dumps(job, indent=2))
    return root / "job.json"


@pytest.mark.parametrize("route", ["job_parameter", "stdin"])
def test_qgis_process_job(qgis_process_env, tmp_path, route) -> None:  # noqa: ANN001
    job = _job(tmp_path)
    if route == "stdin":
        if _qgis_process_version() < (3, 24):
            pytest.skip("qgis_process reads JSON from stdin from QGIS 3.24 on")
        data = json.loads(job.read_text())
        data["inputs"] = {
            k: str(tmp_path / v) if k != "ALGORITHM" and isinstance(v, str) else v for k, v in data["inputs"].items()
        }
        args, stdin = ["--json", "run", ALG, "-"], json.dumps(data)
    else:
        args, stdin = ["--json", "run", ALG, "--", f"JOB={job}"], None
    proc = run_qgis_process(args, qgis_process_env, timeout=300, input=stdin, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert (results["PAIR_COUNT"], results["SUCCEEDED"], results["FAILED"]) == (3, 2, 1)
    failures = [line for line in proc.stderr.splitlines() if "Pair 'broken' failed" in line]
    assert len(failures) == 1 and "post-fire image has 1 band(s)" in failures[0]
    rows = _summary(str(tmp_path / "summary.csv"))
    high = {r["pair"]: float(r["area_ha"]) for r in rows if r["class"] == "High severity"}
    assert high == pytest.approx({"fire_a": 0.24, "fire_b": 0.08})
    assert [r["status"] for r in rows if r["pair"] == "broken"] == ["failed"]
    tifs = {f for f in os.listdir(tmp_path / "out" / "fire_a") if f.endswith(".tif")}
    assert tifs == {"dnbr.tif", "rdnbr.tif", "severity.tif"}


def test_runs_a_workflow_file_on_each_pair(provider, tmp_path) -> None:  # noqa: ANN001
    """A model (.model3) runs per pair: its inputs are found by name, its outputs land in the pair folders."""
    from test_workflows import _burn_table_model

    import processing

    model_path = tmp_path / "severity_table.model3"
    assert _burn_table_model().toFile(str(model_path))
    scenes = _scenes(tmp_path)
    result = processing.run(
        ALG,
        {
            "INPUT_FOLDER": str(scenes),
            "ALGORITHM": str(model_path),
            "OUTPUT_FOLDER": str(tmp_path / "out"),
            "OUTPUT_SUMMARY": "TEMPORARY_OUTPUT",
        },
    )
    assert (result["SUCCEEDED"], result["FAILED"]) == (2, 1)
    assert np.bincount(read(tmp_path / "out" / "b" / "severity.tif").ravel(), minlength=8)[7] == 8
    rows = _summary(result["SUMMARY_CSV"])
    high = {r["pair"]: float(r["area_ha"]) for r in rows if r["class"] == "High severity"}
    assert high == pytest.approx({"a": 0.24, "b": 0.08})


def test_runs_a_shipped_workflow_on_each_pair(provider, tmp_path) -> None:  # noqa: ANN001
    """A shipped workflow by id: per-pair outputs under their model output names, areas in the summary."""
    import processing

    scenes = _scenes(tmp_path)
    out = tmp_path / "out"
    context = QgsProcessingContext()
    result = processing.run(
        ALG,
        {
            "INPUT_FOLDER": str(scenes),
            "ALGORITHM": "burn_severity_report",
            "PARAMETERS": '{"min_area_m2": 0, "burn:report": null}',
            "OUTPUT_FOLDER": str(out),
            "OUTPUT_SUMMARY": "TEMPORARY_OUTPUT",
        },
        context=context,
    )
    assert (result["SUCCEEDED"], result["FAILED"]) == (2, 1)
    # Layers the pairs opened were released with each pair, not kept for the whole batch.
    assert context.temporaryLayerStore().count() == 0
    assert {"severity.tif", "dnbr.tif", "polygons.gpkg", "perimeter.gpkg", "areas.csv"} <= set(os.listdir(out / "b"))
    assert "report.html" not in os.listdir(out / "b")
    rows = _summary(result["SUMMARY_CSV"])
    high = {r["pair"]: float(r["area_ha"]) for r in rows if r["class"] == "High severity"}
    assert high == pytest.approx({"a": 0.24, "b": 0.08})


def test_a_pair_that_fails_halfway_leaves_nothing_behind(provider, tmp_path) -> None:  # noqa: ANN001
    """A workflow whose second step fails after the first wrote its raster: the pair's new files are removed."""
    from qgis.core import QgsProcessingModelChildParameterSource
    from test_workflows import _burn_table_model

    import processing

    model = _burn_table_model()
    table = model.childAlgorithm("table")
    table.addParameterSources("BAND", [QgsProcessingModelChildParameterSource.fromStaticValue(9)])  # no band 9
    model.setChildAlgorithm(table)
    model_path = tmp_path / "broken_second_step.model3"
    assert model.toFile(str(model_path))
    scenes = _scenes(tmp_path)
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "notes.txt").write_text("the user's own file")
    with pytest.raises(QgsProcessingException, match="None of the 3 pair"):
        processing.run(
            ALG,
            {
                "INPUT_FOLDER": str(scenes),
                "ALGORITHM": str(model_path),
                "OUTPUT_FOLDER": str(out),
                "OUTPUT_SUMMARY": "TEMPORARY_OUTPUT",
            },
        )
    assert sorted(os.listdir(out)) == ["a", "summary.csv"] and os.listdir(out / "a") == ["notes.txt"]
    rows = _summary(str(out / "summary.csv"))
    assert [r["status"] for r in rows] == ["failed"] * 3 and "band" in rows[0]["error"].lower()
