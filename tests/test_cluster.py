"""Many scene pairs on a real Dask ``LocalCluster`` of 2 worker processes: the same results as one process,
a worker killed mid-job, a re-run that does no work, a failed pair reported, and the QGIS algorithm's
scheduler address."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from outputs_compare import CLI_NO_QGIS, ROOT, assert_same_raster, assert_same_vector, csv_rows, normalised_report
from scenes import burn_scene

distributed = pytest.importorskip("distributed")

PAIRS = 6
RASTERS = ("dnbr.tif", "severity.tif")


@pytest.fixture(scope="module")
def cluster():  # noqa: ANN201
    """A real LocalCluster: 2 worker processes of 1 thread, and a client to watch it."""
    local = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(local)
    yield local, client
    client.close()
    local.close()


def _job(folder: Path, rows: int = 90, cols: int = 120, extra: dict | None = None) -> Path:
    scenes = folder / "scenes"
    for i in range(PAIRS):
        (scenes / f"fire_{i}").mkdir(parents=True)
        burn_scene(scenes / f"fire_{i}", rows=rows, cols=cols, seed=i)
    job = folder / "job.json"
    inputs = {
        "INPUT_FOLDER": "scenes",
        "ALGORITHM": "changelens:burnseverity",
        "PARAMETERS": {"MIN_AREA_M2": 500, **(extra or {})},
        "OUTPUT_FOLDER": "one",
    }
    job.write_text(json.dumps({"inputs": inputs}))
    return job


def _cli(*args: object, wait: bool = True):  # noqa: ANN202
    command = [sys.executable, "-c", CLI_NO_QGIS, str(ROOT / ".plugin_path"), "batch", *map(str, args)]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def assert_same_job(one: Path, other: Path) -> None:
    """Every pair's rasters, polygons, table and report equal; the summaries equal but for seconds and folders."""
    drop = ("seconds", "folder")
    assert csv_rows(str(one / "summary.csv"), drop) == csv_rows(str(other / "summary.csv"), drop)
    for i in range(PAIRS):
        a, b = one / f"fire_{i}", other / f"fire_{i}"
        assert sorted(os.listdir(a)) == sorted(os.listdir(b))
        assert not [n for n in os.listdir(b) if n.startswith(".changelens-") and (b / n).is_dir()]
        for name in RASTERS:
            assert_same_raster(str(a / name), str(b / name))
        assert_same_vector(str(a / "polygons.gpkg"), str(b / "polygons.gpkg"))
        assert (a / "stats.csv").read_text() == (b / "stats.csv").read_text()
        assert normalised_report(str(a / "report.html"), str(a)) == normalised_report(str(b / "report.html"), str(b))


def test_cluster_gives_the_one_process_results_and_a_rerun_does_no_work(cluster, tmp_path) -> None:  # noqa: ANN001
    local, _client = cluster
    job = _job(tmp_path)
    one = _cli(job)
    assert one.returncode == 0, one.stderr + one.stdout
    done = _cli(job, "--scheduler", local.scheduler_address, "--output-folder", tmp_path / "dask")
    assert done.returncode == 0, done.stderr + done.stdout
    assert_same_job(tmp_path / "one", tmp_path / "dask")
    workers = set(re.findall(r"\] fire_\d: ok \([0-9.]+ s on (\S+)\)", done.stdout))
    assert len(workers) == 2, done.stdout  # both worker processes took pairs
    assert (tmp_path / "dask" / "job_report.html").is_file()
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "dask").rglob("*") if p.is_file()}
    again = _cli(job, "--scheduler", local.scheduler_address, "--output-folder", tmp_path / "dask", "--json")
    assert again.returncode == 0, again.stderr
    outcomes = json.loads(again.stdout[again.stdout.index("[") :])
    assert [o["reused"] for o in outcomes] == [True] * PAIRS
    changed = [p for p, t in stamps.items() if p.stat().st_mtime_ns != t and p.name not in ("summary.csv",)]
    assert changed == [tmp_path / "dask" / "job_report.html"]  # no pair output was touched


def test_a_worker_killed_mid_job_has_its_pairs_run_elsewhere(cluster, tmp_path) -> None:  # noqa: ANN001
    local, client = cluster
    job = _job(tmp_path, rows=600, cols=800)
    runner = _cli(job, "--scheduler", local.scheduler_address, "--output-folder", tmp_path / "dask", wait=False)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and runner.poll() is None:
        busy = [w for w, keys in client.processing().items() if any("changelens-" in str(k) for k in keys)]
        staging = [p for p in (tmp_path / "dask").glob("fire_*/.changelens-*") if p.is_dir()]
        if busy and staging:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed = pid
        time.sleep(0.05)
    stdout, stderr = runner.communicate(timeout=600)
    assert killed is not None, "no pair was running to kill"
    assert runner.returncode == 0, stderr + stdout
    rows = csv_rows(str(tmp_path / "dask" / "summary.csv"))
    assert {r["status"] for r in rows} == {"ok"} and len({r["pair"] for r in rows}) == PAIRS
    assert f":{killed})" not in stdout.replace(f":{killed}) ", "")  # no pair reports the dead worker as its runner
    one = _cli(job)
    assert one.returncode == 0, one.stderr
    assert_same_job(tmp_path / "one", tmp_path / "dask")


def test_a_failed_pair_is_a_row_not_the_end_of_the_job(cluster, tmp_path) -> None:  # noqa: ANN001
    local, _client = cluster
    job = _job(tmp_path)
    (tmp_path / "scenes" / "fire_3" / "post.tif").write_text("not a raster")
    (tmp_path / "scenes" / "half").mkdir()
    burn_scene(tmp_path / "scenes" / "half")
    os.remove(tmp_path / "scenes" / "half" / "post.tif")
    done = _cli(job, "--workers", 2)
    assert done.returncode == 0, done.stderr + done.stdout
    rows = {r["pair"]: r for r in csv_rows(str(tmp_path / "one" / "summary.csv"))}
    assert rows["fire_3"]["status"] == "failed" and "not a raster" in rows["fire_3"]["error"]
    assert rows["half"]["status"] == "failed" and "no after image" in rows["half"]["error"]
    assert rows["fire_0"]["status"] == "ok" and not (tmp_path / "one" / "fire_3").exists()
    report = (tmp_path / "one" / "job_report.html").read_text()
    assert "fire_3" in report and "not a raster" in report


def test_qgis_many_pairs_with_a_scheduler_address(provider, cluster, tmp_path) -> None:  # noqa: ANN001
    import processing

    local, _client = cluster
    _job(tmp_path)
    out = processing.run(
        "changelens:manypairs",
        {
            "INPUT_FOLDER": str(tmp_path / "scenes"),
            "ALGORITHM": "changelens:burnseverity",
            "PARAMETERS": '{"MIN_AREA_M2": 500}',
            "OUTPUT_FOLDER": str(tmp_path / "qgis"),
            "SCHEDULER": local.scheduler_address,
        },
    )
    assert out["SUCCEEDED"] == PAIRS and out["FAILED"] == 0
    one = _cli(tmp_path / "job.json")
    assert one.returncode == 0, one.stderr
    assert_same_job(tmp_path / "one", tmp_path / "qgis")


def test_qgis_many_pairs_on_a_cluster_explains_what_is_missing(provider, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from qgis.core import QgsProcessingException

    import processing

    _job(tmp_path)
    params = {"INPUT_FOLDER": str(tmp_path / "scenes"), "OUTPUT_FOLDER": str(tmp_path / "q"), "SCHEDULER": "tcp://x:1"}
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(QgsProcessingException, match="pip install distributed"):
        processing.run("changelens:manypairs", params)
    monkeypatch.undo()
    with pytest.raises(QgsProcessingException, match="needs QGIS"):
        processing.run("changelens:manypairs", {**params, "ALGORITHM": "changelens:burn_severity_report"})
