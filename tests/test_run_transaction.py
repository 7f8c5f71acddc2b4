"""One transaction per run: every destination is checked first; a cancel or a failure at any stage keeps nothing.

Stages of a run: reading and computing the rasters, the minimum mapping unit and polygons, the
area table, the report (HTML and PDF), and the final commit. Each test cancels or breaks one
stage and checks that no output file (nor a sidecar or staging folder) is left and that the
message tells the truth.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from qgis_process_runner import run_algorithm
from rasters import write_raster
from scenes import burn_scene

ALG = "changelens:burnseverity"


def _outputs(folder: Path) -> dict[str, str]:
    return {
        "OUTPUT_DNBR": str(folder / "dnbr.tif"),
        "OUTPUT_SEVERITY": str(folder / "severity.tif"),
        "OUTPUT_POLYGONS": str(folder / "polygons.gpkg"),
        "OUTPUT_STATS": str(folder / "areas.csv"),
        "OUTPUT_REPORT": str(folder / "report.html"),
        "OUTPUT_REPORT_PDF": str(folder / "report.pdf"),
        "MIN_AREA_M2": 300,
    }


@contextlib.contextmanager
def read_only_folder(path: Path):  # noqa: ANN201
    """An existing folder nobody can write to: a read-only tmpfs as root, else permissions."""
    path.mkdir(parents=True)
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "none", str(path)], capture_output=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a read-only folder here: {mounted.stderr.decode().strip()}")
        try:
            yield path
        finally:
            subprocess.run(["umount", str(path)], check=False)
    else:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


class CancelOn(QgsProcessingFeedback):
    """Feedback that cancels itself when a progress fraction or a progress text is reached."""

    def __init__(self, fraction: float | None = None, text: str | None = None) -> None:
        super().__init__()
        self.fraction, self.text = fraction, text

    def setProgress(self, progress: float) -> None:  # noqa: N802 - Qt API
        super().setProgress(progress)
        if self.fraction is not None and progress >= 100 * self.fraction:
            self.cancel()

    def setProgressText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setProgressText(text)
        if self.text is not None and text == self.text:
            self.cancel()


def test_report_folder_checked_before_any_work(provider, tmp_path) -> None:  # noqa: ANN001
    """Case report-destination-late: an unwritable report folder fails first, with one clear sentence."""
    import processing

    data = tmp_path / "Incêndio Serra da Estrela 2022" / "dados de satélite"
    data.mkdir(parents=True)
    nir, swir = np.full((64, 64), 3000, np.uint16), np.full((64, 64), 1000, np.uint16)
    burnt_nir, burnt_swir = nir.copy(), swir.copy()
    burnt_nir[16:48, 16:48], burnt_swir[16:48, 16:48] = 1500, 2500
    gt = (600000, 20, 0, 4400040, 0, -20)
    names = ["B8A", "B12"]
    pre = write_raster(data / "pré-fogo (B8A, B12).tif", np.stack([nir, swir]), 32629, gt, descriptions=names)
    post = write_raster(
        data / "pós-fogo (B8A, B12).tif", np.stack([burnt_nir, burnt_swir]), 32629, gt, descriptions=names
    )
    out = tmp_path / "out" / "w"
    out.mkdir(parents=True)
    with read_only_folder(tmp_path / "out" / "ro") as ro:
        params = {"PRE": pre, "POST": post, **_outputs(out), "OUTPUT_REPORT": str(ro / "report.html")}
        del params["OUTPUT_REPORT_PDF"]
        with pytest.raises(QgsProcessingException, match=r"report cannot be written to .*ro.*: choose a folder"):
            processing.run(ALG, params)
        assert _files(out) == []


def test_report_folder_checked_before_any_work_under_qgis_process(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    pre, post = burn_scene(tmp_path)
    out = tmp_path / "w"
    out.mkdir()
    with read_only_folder(tmp_path / "ro") as ro:
        params = {"PRE": pre, "POST": post, **_outputs(out), "OUTPUT_REPORT": str(ro / "report.html")}
        code, payload, log = run_algorithm(qgis_process_env, ALG, params)
    assert code == 1 and payload is None, log
    assert "report cannot be written to" in log, log
    assert _files(out) == []


@pytest.mark.parametrize(
    ("stage", "feedback"),
    [
        ("reading and computing", lambda: CancelOn(fraction=0.2)),
        ("minimum mapping unit and polygons", lambda: CancelOn(text="Polygons and area statistics")),
        ("report", lambda: CancelOn(text="Report")),
    ],
)
def test_cancel_at_any_stage_keeps_nothing(provider, tmp_path, stage, feedback) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match="cancelled; no output was written"):
        processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(out)}, feedback=feedback())
    assert _files(out) == [], stage


def _cancel_inside(monkeypatch, module: str, name: str, feedback: QgsProcessingFeedback) -> None:  # noqa: ANN001
    """Make ``module.name`` cancel the run when it is called, then do its work."""
    import importlib

    target = importlib.import_module(module)
    original = getattr(target, name)

    def cancelling(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        feedback.cancel()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, cancelling)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("changelens.core.outputs.vectorize", "write_polygons"),
        ("changelens.core.outputs.vectorize", "_write_stats"),
        ("changelens.processing.report_pages", "write_report"),
        ("changelens.processing.report_pages", "write_pdf_report"),
    ],
)
def test_cancel_while_writing_polygons_table_or_report_keeps_nothing(
    provider, tmp_path, monkeypatch, module, name
) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    feedback = QgsProcessingFeedback()
    _cancel_inside(monkeypatch, module, name, feedback)
    with pytest.raises(QgsProcessingException, match="cancelled; no output was written"):
        processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(out)}, feedback=feedback)
    assert _files(out) == [], name


@pytest.mark.parametrize(
    ("module", "name", "message"),
    [
        ("changelens.core.outputs.writer.RasterWriter", "write", "disk full"),
        ("changelens.core.outputs.vectorize", "write_polygons", "disk full"),
        ("changelens.core.outputs.vectorize", "_write_stats", "disk full"),
        ("changelens.processing.report_pages", "write_report", "disk full"),
        ("changelens.processing.report_pages", "write_pdf_report", "disk full"),
    ],
)
def test_failure_at_any_stage_keeps_nothing_and_previous_files(
    provider, tmp_path, monkeypatch, module, name, message
) -> None:  # noqa: ANN001
    import importlib

    import processing

    pre, post = burn_scene(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "severity.tif").write_bytes(b"yesterday's map")
    parent, _, attribute = module.rpartition(".") if module.endswith("RasterWriter") else (module, "", "")
    target = getattr(importlib.import_module(parent), attribute) if attribute else importlib.import_module(module)

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(28, "No space left on device (disk full)")

    monkeypatch.setattr(target, name, broken)
    with pytest.raises(QgsProcessingException, match=message):
        processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(out)})
    assert _files(out) == ["severity.tif"], name
    assert (out / "severity.tif").read_bytes() == b"yesterday's map"


def test_failed_commit_restores_previous_files(provider, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A move that fails half-way through the commit puts every replaced file back."""
    from changelens.core.outputs import transaction

    import processing

    pre, post = burn_scene(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "dnbr.tif").write_bytes(b"old dnbr")
    (out / "severity.tif").write_bytes(b"old classes")
    real_replace = os.replace
    moved = []

    def flaky(source, target):  # noqa: ANN001, ANN202
        leaving_staging = ".changelens-" in str(source) and ".changelens-" not in str(target)
        if leaving_staging and not os.path.basename(str(source)).startswith(".old-"):
            moved.append(target)
            if len(moved) == 3:
                raise OSError(5, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(transaction.os, "replace", flaky)
    with pytest.raises(QgsProcessingException, match="could not be moved into place"):
        processing.run(ALG, {"PRE": pre, "POST": post, **_outputs(out)})
    assert _files(out) == ["dnbr.tif", "severity.tif"]
    assert (out / "dnbr.tif").read_bytes() == b"old dnbr" and (out / "severity.tif").read_bytes() == b"old classes"


def test_two_outputs_on_one_path_fail_before_any_work(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    params = {"PRE": pre, "POST": post, **_outputs(out), "OUTPUT_DNBR": str(out / "severity.tif")}
    with pytest.raises(QgsProcessingException, match="both written to"):
        processing.run(ALG, params)
    assert _files(out) == []
