"""The dependency doctor: diagnostics, the interpreter and pip command it would use, and its QProcess run."""

from __future__ import annotations

import os
import sys

import numpy
import onnxruntime
import pytest
from changelens.core.models.runtime import python_executable
from changelens.core.models.runtime_check import RuntimeStatus, onnxruntime_status
from changelens.ui.doctor import (
    DoctorDialog,
    command_text,
    diagnostics_text,
    explanation,
    externally_managed,
    install_command,
)
from osgeo import gdal
from qgis.core import Qgis
from qgis.PyQt.QtCore import QEventLoop, QProcess, QTimer
from qgis.PyQt.QtGui import QGuiApplication


def test_status_of_the_installed_onnxruntime() -> None:
    status = onnxruntime_status()
    assert status.ok and status.version == onnxruntime.__version__
    assert status.devices()[0] == ("CPUExecutionProvider", "CPU")
    assert "AzureExecutionProvider" not in [p for p, _l in status.devices()]


def test_missing_and_broken_onnxruntime_are_told_apart(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ModuleNotFoundError
    missing = onnxruntime_status()
    assert missing.state == "missing" and not missing.ok
    assert "not installed" in explanation(missing)

    class Broken:
        __version__ = "1.99"

        @staticmethod
        def get_available_providers() -> list[str]:
            raise RuntimeError("numpy.core.multiarray failed to import")

    monkeypatch.setitem(sys.modules, "onnxruntime", Broken)
    broken = onnxruntime_status()
    assert broken.state == "broken" and "multiarray" in broken.error
    assert "cannot be loaded" in explanation(broken)


@pytest.mark.parametrize(
    ("executable", "prefix", "platform", "existing", "expected"),
    [
        ("/usr/bin/qgis", "/usr", "linux", {"/usr/bin/python3.11"}, "/usr/bin/python3.11"),
        ("/usr/bin/python3", "/usr", "linux", set(), "/usr/bin/python3"),
        ("/home/u/.pyenv/shims/python3.11", "/usr", "linux", {"/usr/bin/python3.11"}, "/usr/bin/python3.11"),
        ("/app/bin/qgis", "/app", "linux", {"/app/bin/python3"}, "/app/bin/python3"),
        (
            r"C:\OSGeo4W\bin\qgis-ltr-bin.exe",
            r"C:\OSGeo4W\apps\Python39",
            "win32",
            {r"C:\OSGeo4W\apps\Python39/python.exe"},
            r"C:\OSGeo4W\apps\Python39/python.exe",
        ),
        (
            "/Applications/QGIS-LTR.app/Contents/MacOS/QGIS",
            "/Applications/QGIS-LTR.app/Contents/Frameworks/Python.framework/Versions/3.11",
            "darwin",
            {"/Applications/QGIS-LTR.app/Contents/MacOS/bin/python3"},
            "/Applications/QGIS-LTR.app/Contents/MacOS/bin/python3",
        ),
    ],
)
def test_qgis_python_on_each_os(executable, prefix, platform, existing, expected) -> None:  # noqa: ANN001
    found = python_executable(executable, prefix, platform, (3, 11), existing.__contains__)
    assert found.replace("\\", "/") == expected.replace("\\", "/")


def test_doctor_installs_with_the_interpreter_running_qgis_not_a_shim(qgis_app, monkeypatch) -> None:  # noqa: ANN001
    """Inside QGIS ``sys.executable`` can be a pyenv shim of another Python: the Doctor must use the
    interpreter that runs this code (found from its prefix), as the model runtime's own message does."""
    monkeypatch.setattr(sys, "executable", "/home/user/.pyenv/shims/python3.11")
    dialog = DoctorDialog(status=RuntimeStatus("missing", error="not installed"))
    running = os.path.join(sys.exec_prefix, "bin", f"python{sys.version_info.major}.{sys.version_info.minor}")
    assert dialog.python == running
    assert dialog.install_argv()[0] == running and "shims" not in dialog.command.text()
    assert f"QGIS Python interpreter: {running}" in dialog.diagnostics()


def test_install_command_pins_numpy_and_respects_pep668(tmp_path) -> None:  # noqa: ANN001
    command = install_command("/usr/bin/python3.11", "cpu", "1.24.2", managed=True)
    assert command == [
        "/usr/bin/python3.11",
        "-m",
        "pip",
        "install",
        "--user",
        "--upgrade",
        "--prefer-binary",
        "onnxruntime",
        "numpy==1.24.2",
        "--break-system-packages",
    ]
    gpu = install_command(r"C:\Program Files\QGIS 3.34\apps\Python312\python.exe", "cuda", "1.26.4", managed=False)
    assert "onnxruntime-gpu" in gpu and "--break-system-packages" not in gpu
    assert command_text(gpu, "win32").startswith(r'"C:\Program Files\QGIS 3.34\apps\Python312\python.exe" -m pip')
    assert not externally_managed(str(tmp_path))
    (tmp_path / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    assert externally_managed(str(tmp_path))


def test_dialog_diagnostics_and_command(qgis_app) -> None:  # noqa: ANN001
    dialog = DoctorDialog()
    text = dialog.diagnostics()
    assert f"QGIS: {Qgis.QGIS_VERSION}" in text
    assert f"GDAL: {gdal.__version__}" in text and f"numpy: {numpy.__version__}" in text
    assert f"onnxruntime: {onnxruntime.__version__}" in text and "CPUExecutionProvider" in text
    assert f"Python: {sys.version.split()[0]}" in text and "Devices for models: CPU" in text
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    command = dialog.command.text()
    assert f"onnxruntime numpy=={numpy.__version__}" in command and " -m pip install --user " in command
    dialog.variant.setCurrentIndex(dialog.variant.findData("cuda"))
    assert "onnxruntime-gpu" in dialog.command.text()
    assert diagnostics_text("3.22", {}, "py", RuntimeStatus("missing", error="gone")) == (
        "QGIS: 3.22\nQGIS Python interpreter: py\nonnxruntime state: missing (gone)\nDevices for models: none\n"
        "distributed (Dask clusters): not installed"
    )
    dialog.variant.setCurrentIndex(dialog.variant.findData("distributed"))
    assert " -m pip install --user --upgrade --prefer-binary distributed " in dialog.command.text() + " "


def test_doctor_offers_distributed_when_it_is_missing(qgis_app, monkeypatch) -> None:  # noqa: ANN001
    import changelens.ui.doctor as doctor

    monkeypatch.setattr(doctor, "distributed_version", lambda: None)
    dialog = DoctorDialog()
    assert dialog.variant.currentData() == "distributed"
    assert "install the 'distributed' package" in dialog.explanation.text()
    assert "distributed (Dask clusters): not installed" in dialog.diagnostics()
    monkeypatch.setattr(doctor, "distributed_version", lambda: "2026.8.0")
    assert "distributed 2026.8.0 is installed" in DoctorDialog().explanation.text()


def test_install_runs_in_qprocess_with_visible_output(qgis_app) -> None:  # noqa: ANN001
    dialog = DoctorDialog(status=RuntimeStatus("missing", error="not installed"))
    assert "not installed" in dialog.explanation.text()
    process = dialog.install([sys.executable, "-c", "print('collecting onnxruntime')"])
    assert not dialog.install_button.isEnabled() and dialog.progress.maximum() == 0
    loop = QEventLoop()
    process.finished.connect(loop.quit)
    QTimer.singleShot(10000, loop.quit)
    if process.state() != QProcess.ProcessState.NotRunning:
        loop.exec()
    text = dialog.output.toPlainText()
    assert "collecting onnxruntime" in text and "Installed. Restart QGIS" in text
    assert dialog.install_button.isEnabled() and dialog.progress.value() == 1
    failing = dialog.install([sys.executable, "-c", "import sys; sys.exit(3)"])
    failing.waitForFinished(10000)
    loop2 = QEventLoop()
    QTimer.singleShot(100, loop2.quit)
    loop2.exec()
    assert "exit code 3" in dialog.output.toPlainText()
