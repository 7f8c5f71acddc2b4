"""tools/check_qt6.py: the repository is free of Qt5-only API, and the check catches what Qt6 rejects."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_qt6", ROOT / "tools" / "check_qt6.py")
check_qt6 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_qt6)


def _cli(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_qt6.py"), *paths], capture_output=True, text=True, timeout=120
    )


def test_the_repository_passes() -> None:
    proc = _cli()
    assert proc.returncode == 0, proc.stderr


def test_a_planted_exec_fails(tmp_path) -> None:  # noqa: ANN001
    planted = tmp_path / "dialog.py"
    planted.write_text("def show(dialog):\n    return dialog.exec_()\n")
    proc = _cli(str(planted))
    assert proc.returncode == 1
    assert f"{planted}:2: exec_() does not exist in PyQt6" in proc.stderr


@pytest.mark.parametrize(
    "source",
    [
        "item.setData(0, Qt.UserRole, path)",
        "QDialogButtonBox(QDialogButtonBox.Close)",
        "QMessageBox.question(None, 't', 'q', QMessageBox.Yes | QMessageBox.No)",
        "layout.setAlignment(QtCore.Qt.AlignLeft)",
        "QPageSize(QPageSize.A4)",
        "param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)",
        "optional = definition.flags() & definition.FlagOptional",
        "QgsProcessingParameterNumber('N', 'n', QgsProcessingParameterNumber.Double)",
        "QgsMessageLog.logMessage('m', 'ChangeLens', Qgis.Warning)",
    ],
)
def test_unscoped_enums_fail(source: str) -> None:
    assert check_qt6.check_source(source, "planted.py"), source


@pytest.mark.parametrize(
    "source",
    [
        "item.setData(0, Qt.ItemDataRole.UserRole, path)",
        "QDialogButtonBox(QDialogButtonBox.StandardButton.Close)",
        "QMessageBox.question(None, 't', 'q', QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)",
        "QgsMessageLog.logMessage('m', 'ChangeLens', Qgis.MessageLevel.Warning)",
        "flags = QgsProcessingParameterDefinition.Flag.FlagAdvanced",
        "path = QgsProcessing.TEMPORARY_OUTPUT; version = Qgis.QGIS_VERSION_INT",
        "def confirm(button: QMessageBox.StandardButton) -> QMessageBox.StandardButton: ...",
        "loop.exec()",
        "text = 'dialog.exec_() Qt.UserRole'",
        "menu.addAction('Open').triggered.connect(self.open)",
        "toolbar.addAction(icon, 'Open'); menu.addAction(action)",
    ],
)
def test_qt6_ready_code_passes(source: str) -> None:
    assert check_qt6.check_source(source, "ready.py") == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("from qgis.PyQt.QtCore import QRegExp", "QRegExp was removed"),
        ("from PyQt5.QtWidgets import QAction", "not PyQt5"),
        ("size = image.byteCount()", "sizeInBytes"),
        ("from qgis.PyQt.QtWidgets import qApp", "QApplication.instance()"),
        ("menu.addAction('Open', self.open)", "addAction(..., slot)"),
        ("menu.addAction(icon, 'Open', self.open)", "addAction(..., slot)"),
    ],
)
def test_removed_api_fails(source: str, message: str) -> None:
    found = check_qt6.check_source(source, "planted.py")
    assert found and message in found[0]


def test_metadata_declares_qt6_support() -> None:
    import configparser

    meta = configparser.ConfigParser()
    meta.read(ROOT / "metadata.txt")
    assert meta["general"]["supportsQt6"] == "True"
    assert float(meta["general"]["qgisMaximumVersion"]) >= 4
