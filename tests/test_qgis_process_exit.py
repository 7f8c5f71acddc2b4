"""qgis_process exits cleanly with ChangeLens loaded: no abort at exit (code 134), on every QGIS version.

QGIS 3.44 destroys the Processing registry before plugins are unloaded; a teardown that still used
it aborted every ``qgis_process`` call after its work was done. These tests fail on such an exit,
and make sure every ``qgis_process`` call of the suite has its exit code checked.
"""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import PLUGIN_PATH
from qgis_process_runner import QgisProcessCrash, check_exit, environment, run_qgis_process
from rasters import write_raster

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize(("code", "crash"), [(0, False), (1, False), (134, True), (139, True), (-6, True)])
def test_an_exit_by_signal_fails(code: int, crash: bool) -> None:
    proc = subprocess.CompletedProcess(["qgis_process.bin", "list"], code, "out", "err")
    if crash:
        with pytest.raises(QgisProcessCrash, match=f"exit code {code}"):
            check_exit(proc)
    else:
        assert check_exit(proc) is proc


def _direct_calls(path: Path) -> list[int]:
    """Lines of ``path`` that start ``qgis_process`` without the runner (so without the exit check)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name) and node.id == "QGIS_PROCESS":
            lines.append(node.lineno)
        elif isinstance(node, (ast.List, ast.Tuple)) and node.elts and isinstance(node.elts[0], ast.Constant):
            if str(node.elts[0].value).rsplit("/", 1)[-1].startswith("qgis_process"):  # ["qgis_process.bin", ...]
                lines.append(node.lineno)
    return lines


def test_every_qgis_process_call_goes_through_the_runner() -> None:
    direct = {
        path.name: _direct_calls(path)
        for path in sorted(TESTS.glob("*.py"))
        if path.name not in ("qgis_process_runner.py", Path(__file__).name)
    }
    assert {name: lines for name, lines in direct.items() if lines} == {}


def test_plugin_enable_list_help_and_run_exit_zero(tmp_path) -> None:  # noqa: ANN001
    """The README's command-line steps, each with exit status 0 in a fresh profile."""
    env = environment(tmp_path / "profile", PLUGIN_PATH)
    enabled = run_qgis_process(["plugins", "enable", "changelens"], env, timeout=120)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    listing = run_qgis_process(["list"], env, timeout=120)
    assert listing.returncode == 0 and "changelens:burnseverity" in listing.stdout
    shown = run_qgis_process(["help", "changelens:burnseverity"], env, timeout=120)
    assert shown.returncode == 0 and "OUTPUT_SEVERITY" in shown.stdout
    image = np.stack([np.full((6, 8), 4000, np.float32), np.full((6, 8), 1000, np.float32)])
    burned = image.copy()
    burned[:, :3] = np.array([1500, 2500], np.float32)[:, None, None]
    pre = write_raster(tmp_path / "pre.tif", image, descriptions=["B8", "B12"])
    post = write_raster(tmp_path / "post.tif", burned, descriptions=["B8", "B12"])
    args = ["--json", "run", "changelens:burnseverity", "--", f"PRE={pre}", f"POST={post}", "RADIOMETRY=1"]
    ran = run_qgis_process(
        [*args, f"OUTPUT_SEVERITY={tmp_path / 'severity.tif'}", f"OUTPUT_DNBR={tmp_path / 'dnbr.tif'}"], env
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["results"]["OUTPUT_SEVERITY"] == str(tmp_path / "severity.tif")


@pytest.mark.parametrize("json_mode", [False, True])
def test_an_error_is_printed_once(qgis_process_env, tmp_path, json_mode: bool) -> None:  # noqa: ANN001
    """QGIS echoes an algorithm's error three times under qgis_process (message log, console feedback and
    the feedback's own log entry); ChangeLens errors appear once, with exit code 1."""
    image = np.stack([np.full((6, 8), 4000, np.float32), np.full((6, 8), 1000, np.float32)])
    pre = write_raster(tmp_path / "pre.tif", image, descriptions=["B8", "B12"])
    far = (900000.0, 10, 0, 100000.0, 0, -10)
    post = write_raster(tmp_path / "post.tif", image, descriptions=["B8", "B12"], geotransform=far)
    args = ["run", "changelens:burnseverity", "--", f"PRE={pre}", f"POST={post}"]
    outputs = [f"OUTPUT_SEVERITY={tmp_path / 'severity.tif'}", f"OUTPUT_DNBR={tmp_path / 'dnbr.tif'}"]
    ran = run_qgis_process([*(["--json"] if json_mode else []), *args, *outputs], qgis_process_env)
    printed = ran.stdout + ran.stderr
    assert ran.returncode == 1, printed
    assert printed.count("do not overlap") == 1, printed
    assert not (tmp_path / "severity.tif").exists()
