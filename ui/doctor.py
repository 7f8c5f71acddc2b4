"""Dependency doctor: explain a missing or broken onnxruntime and install one that fits this QGIS (and,
optionally, ukis-csmask for cloud masks of dates that carry none and ``distributed`` for runs over many
scene pairs on a Dask cluster).

The install runs ``pip install --user`` with the Python interpreter running QGIS, found from its
prefix by the model runtime (not ``sys.executable``, which inside QGIS may be QGIS itself or a
shim of another Python on the PATH), pins the numpy QGIS already uses so pip picks an onnxruntime
built for it, and shows the exact command so it can be run by hand.
"""

from __future__ import annotations

import os
import shlex
import sys
import sysconfig
from typing import Sequence

from qgis.core import Qgis, QgsMessageLog
from qgis.PyQt.QtCore import QProcess, QProcessEnvironment
from qgis.PyQt.QtGui import QGuiApplication, QTextCursor
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..processing.catalog import (
    RuntimeStatus,
    csmask_version,
    distributed_version,
    library_versions,
    onnxruntime_status,
    python_interpreter,
)
from ..processing.compat import INFO
from ..processing.lifecycle import disconnect_all

VARIANTS = {
    "cpu": ("onnxruntime", "CPU (works everywhere; on macOS it includes CoreML)"),
    "cuda": ("onnxruntime-gpu", "NVIDIA GPU with CUDA 12 and cuDNN 9 installed (Linux, Windows)"),
    "directml": ("onnxruntime-directml", "Any DirectX 12 GPU (Windows)"),
    # Not onnxruntime: the optional cloud and shadow masks for dates that carry none (runs on onnxruntime).
    "csmask": ("ukis-csmask", "Cloud and shadow masks for dates without one (DLR, about 160 MB with its weights)"),
    "distributed": ("distributed", "Dask distributed: run many scene pairs on a cluster (scheduler address)"),
}


def externally_managed(stdlib: str | None = None) -> bool:
    """True when the distribution marks its Python as externally managed (PEP 668, e.g. Debian 12)."""
    folder = stdlib or sysconfig.get_path("stdlib")
    return bool(folder) and os.path.exists(os.path.join(folder, "EXTERNALLY-MANAGED"))


def install_command(python: str, variant: str, numpy_version: str | None, managed: bool) -> list[str]:
    """The pip command that installs onnxruntime (``variant``), or distributed, into the user site of ``python``.

    numpy is pinned to the version QGIS already imports, so pip chooses an onnxruntime
    built for it instead of upgrading numpy under QGIS (which breaks GDAL and QGIS itself).
    """
    package = VARIANTS[variant][0]
    command = [python, "-m", "pip", "install", "--user", "--upgrade", "--prefer-binary", package]
    if numpy_version:
        command.append(f"numpy=={numpy_version}")
    if managed:
        command.append("--break-system-packages")
    return command


def command_text(command: Sequence[str], platform: str = sys.platform) -> str:
    """``command`` quoted for the user's shell (cmd on Windows, POSIX otherwise)."""
    if platform.startswith("win"):
        return " ".join(f'"{part}"' if " " in part else part for part in command)
    return " ".join(shlex.quote(part) for part in command)


def diagnostics_text(
    qgis_version: str, versions: dict[str, str], python: str, status: RuntimeStatus, distributed: str | None = None
) -> str:
    """The text "Copy diagnostics" puts on the clipboard (for a bug report)."""
    lines = [f"QGIS: {qgis_version}"]
    lines += [f"{key}: {value}" for key, value in versions.items()]
    lines.append(f"QGIS Python interpreter: {python}")
    lines.append(f"onnxruntime state: {status.state}" + (f" ({status.error})" if status.error else ""))
    devices = ", ".join(label for _p, label in status.devices()) or "none"
    lines.append(f"Devices for models: {devices}")
    lines.append(f"distributed (Dask clusters): {distributed or 'not installed'}")
    return "\n".join(lines)


CSMASK_NOTE = (
    " Optional: ukis-csmask computes cloud and shadow masks for Sentinel-2 and Landsat dates that carry none "
    "(choose it as the package below; the 'ukis-csmask' cloud-mask option then works)."
)


def cluster_explanation(version: str | None) -> str:
    """One sentence about running many scene pairs on a Dask cluster."""
    if version:
        return f"distributed {version} is installed: 'Run on many scene pairs' can send pairs to a Dask scheduler."
    return (
        "To send 'Run on many scene pairs' to a Dask cluster (its scheduler address), install the "
        "'distributed' package: pick it below."
    )


def explanation(status: RuntimeStatus, csmask: str | None = None) -> str:
    """One paragraph for the user about the state of onnxruntime (and of ukis-csmask, ``csmask``: its version)."""
    extra = f" ukis-csmask {csmask} is installed: cloud masks for dates without one work." if csmask else CSMASK_NOTE
    if status.ok:
        devices = ", ".join(label for _p, label in status.devices())
        return f"onnxruntime {status.version} works. Models can run on: {devices}.{extra}"
    if status.state == "missing":
        return (
            "The ChangeLens models need the onnxruntime Python package, which is not installed for the Python "
            "that QGIS uses. The index methods (dNBR and the others) work without it. Install it below, then "
            "restart QGIS."
        )
    return (
        f"onnxruntime is installed but cannot be loaded ({status.error}). This usually means it was built for "
        "another numpy or Python version. Reinstall it below with the numpy QGIS uses, then restart QGIS."
    )


class DoctorDialog(QDialog):
    """Shows the state of onnxruntime, the install command, and runs it with visible progress."""

    def __init__(self, parent: QWidget | None = None, status: RuntimeStatus | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changelens_doctor")
        self.setWindowTitle("ChangeLens dependency doctor")
        self.status = status or onnxruntime_status()
        self.versions = library_versions()
        self.python = python_interpreter()
        self.managed = externally_managed()
        self.process: QProcess | None = None
        layout = QVBoxLayout(self)
        self.distributed = distributed_version()
        text = f"{explanation(self.status, csmask_version())}\n\n{cluster_explanation(self.distributed)}"
        self.explanation = QLabel(text, wordWrap=True, objectName="changelens_doctor_text")
        layout.addWidget(self.explanation)
        form = QFormLayout()
        self.variant = QComboBox(objectName="changelens_doctor_variant")
        for key, (package, label) in VARIANTS.items():
            if key == "directml" and not sys.platform.startswith("win"):
                continue
            if key == "cuda" and sys.platform == "darwin":
                continue
            self.variant.addItem(f"{label}: {package}", key)
        if self.status.ok and not self.distributed:  # onnxruntime works: offer what is missing
            self.variant.setCurrentIndex(self.variant.findData("distributed"))
        self.variant.currentIndexChanged.connect(self._update_command)
        self.command = QLineEdit(readOnly=True, objectName="changelens_doctor_command")
        self.command.setToolTip("Run this in a terminal to install by hand (close QGIS first on Windows).")
        form.addRow("Package", self.variant)
        form.addRow("Command", self.command)
        layout.addLayout(form)
        self.output = QPlainTextEdit(readOnly=True, objectName="changelens_doctor_output")
        self.output.setPlainText(self.diagnostics())
        layout.addWidget(self.output)
        self.progress = QProgressBar(objectName="changelens_doctor_progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.install_button = QPushButton("Install", objectName="changelens_doctor_install")
        self.copy_button = QPushButton("Copy diagnostics", objectName="changelens_doctor_copy")
        buttons.addButton(self.install_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.install_button.clicked.connect(self.install)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        layout.addWidget(buttons)
        self._update_command()
        self.resize(720, 420)

    def install_argv(self) -> list[str]:
        """The install command for the chosen variant."""
        numpy = self.versions.get("numpy", "")
        numpy = numpy if numpy and numpy[0].isdigit() else None
        return install_command(self.python, self.variant.currentData() or "cpu", numpy, self.managed)

    def _update_command(self) -> None:
        self.command.setText(command_text(self.install_argv()))
        self.command.setCursorPosition(0)

    def diagnostics(self) -> str:
        """The diagnostics text for this machine."""
        return diagnostics_text(Qgis.QGIS_VERSION, self.versions, self.python, self.status, self.distributed)

    def copy_diagnostics(self) -> None:
        """Put the diagnostics on the clipboard."""
        QGuiApplication.clipboard().setText(self.diagnostics())

    def install(self, argv: Sequence[str] | None = None) -> QProcess:
        """Run the install command (or ``argv``) with QProcess, streaming its output into the dialog."""
        argv = list(argv or self.install_argv())
        self.output.setPlainText(f"$ {command_text(argv)}\n")
        self.install_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy: pip reports no overall fraction
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.remove("PYTHONNOUSERSITE")
        environment.insert("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        process.setProcessEnvironment(environment)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._process_error)
        self.process = process
        process.start(argv[0], argv[1:])
        return process

    def shutdown(self) -> None:
        """Stop listening to a running install (the dialog is going away; the process ends with it)."""
        process, self.process = self.process, None
        if process is not None:
            disconnect_all(process.readyReadStandardOutput, process.finished, process.errorOccurred)

    def _read_output(self) -> None:
        if self.process is not None:
            text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
            self.output.moveCursor(QTextCursor.MoveOperation.End)
            self.output.insertPlainText(text)

    def _process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._done(f"Could not start {self.python}: run the command above in a terminal instead.", False)

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._read_output()
        if code == 0:
            what = "runs on a Dask cluster" if self.variant.currentData() == "distributed" else "the ChangeLens models"
            self._done(f"Installed. Restart QGIS to use {what}.", True)
        else:
            self._done(f"The install failed (exit code {code}); the output above says why.", False)

    def _done(self, message: str, ok: bool) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if ok else 0)
        self.install_button.setEnabled(True)
        self.output.appendPlainText(message)
        QgsMessageLog.logMessage(f"{message}\n{self.output.toPlainText()}", "ChangeLens", INFO)
