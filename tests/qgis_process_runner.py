"""Run ``qgis_process.bin`` with the plugin on QGIS_PLUGINPATH in an isolated profile."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QGIS_PROCESS = "qgis_process.bin"


def environment(profile_home: Path, plugin_path: Path) -> dict[str, str]:
    """Environment for an isolated qgis_process: its own profile folder and plugin path."""
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_CUSTOM_CONFIG_PATH", "QGIS_OPTIONS_PATH")}
    env.update(XDG_DATA_HOME=str(profile_home), QGIS_PLUGINPATH=str(plugin_path), QT_QPA_PLATFORM="offscreen")
    return env


def enable_plugin(env: dict[str, str]) -> None:
    """Enable the plugin in the isolated profile (qgis_process only loads enabled plugins)."""
    proc = subprocess.run(
        [QGIS_PROCESS, "plugins", "enable", "changelens"], env=env, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0 and "already enabled" not in proc.stdout + proc.stderr:
        raise RuntimeError(f"qgis_process could not enable ChangeLens:\n{proc.stdout}\n{proc.stderr}")


def run_algorithm(
    env: dict[str, str], algorithm: str, params: dict[str, Any]
) -> tuple[int, dict[str, Any] | None, str]:
    """Run ``algorithm`` with ``--json``; returns (exit code, parsed JSON or None, stderr)."""
    args = [QGIS_PROCESS, "run", algorithm, "--json", "--"]
    args += [f"{k}={v}" for k, v in params.items()]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    try:
        payload = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        payload = None
    return proc.returncode, payload, proc.stderr + proc.stdout
