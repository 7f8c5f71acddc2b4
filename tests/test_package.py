"""The plugin zip holds runtime files only and qgis_process finds the unpacked plugin."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from qgis_process_runner import enable_plugin, environment, run_qgis_process

ROOT = Path(__file__).resolve().parent.parent


def test_zip_unpacked_into_fresh_plugin_folder_is_found(tmp_path) -> None:  # noqa: ANN001
    target = tmp_path / "changelens.zip"
    subprocess.run([sys.executable, str(ROOT / "tools" / "package.py"), str(target)], check=True, cwd=ROOT)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        plugins = tmp_path / "plugins"
        archive.extractall(plugins)
    assert "changelens/metadata.txt" in names and "changelens/core/methods/burn.py" in names
    assert "changelens/icons/changelens.svg" in names
    assert not [n for n in names if n.startswith(("changelens/tests/", "changelens/training/", "changelens/.ci/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("changelens/cli/", "changelens/pyproject.toml"))]  # pip only
    env = environment(tmp_path / "profile", plugins)
    enable_plugin(env)
    listing = run_qgis_process(["list"], env, timeout=120).stdout
    assert "changelens:burnseverity" in listing
    assert "changelens/workflows/flood_rapid_mapping.model3" in names
    assert "changelens:flood_rapid_mapping" in listing and "changelens:manypairs" in listing
    help_text = run_qgis_process(["help", "changelens:burnseverity"], env, timeout=120).stdout
    assert "OUTPUT_SEVERITY" in help_text
