"""Run ``qgis_process.bin`` with the plugin on QGIS_PLUGINPATH in an isolated profile.

Every call the tests make goes through :func:`run_qgis_process`, which fails on an exit by a
signal (``134`` = abort, ``139`` = segfault; ``-6``/``-11`` as Python reports a signal): QGIS 3.44
aborted at exit when the plugin's teardown touched the already destroyed Processing registry, after
writing its outputs, so checking only the outputs would not notice. ``tests/test_qgis_process_exit.py``
checks that no test calls ``qgis_process`` any other way.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QGIS_PROCESS = "qgis_process.bin"


class QgisProcessCrash(AssertionError):
    """``qgis_process`` died from a signal (an abort or crash) instead of exiting with a status."""


def check_exit(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """``proc`` unchanged, or :class:`QgisProcessCrash` when it was ended by a signal."""
    code = proc.returncode
    if code < 0 or code > 128:
        signal = -code if code < 0 else code - 128
        raise QgisProcessCrash(
            f"{' '.join(map(str, proc.args))} died from signal {signal} (exit code {code}; 134 is an abort)\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    return proc


def run_qgis_process(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 600, **kwargs: Any
) -> subprocess.CompletedProcess:
    """``qgis_process.bin *args`` with text output captured; raises :class:`QgisProcessCrash` on a signal."""
    proc = subprocess.run(
        [QGIS_PROCESS, *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )
    return check_exit(proc)


def environment(profile_home: Path, plugin_path: Path) -> dict[str, str]:
    """Environment for an isolated qgis_process: its own profile folder and plugin path."""
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_CUSTOM_CONFIG_PATH", "QGIS_OPTIONS_PATH")}
    env.update(XDG_DATA_HOME=str(profile_home), QGIS_PLUGINPATH=str(plugin_path), QT_QPA_PLATFORM="offscreen")
    return env


def enable_plugin(env: dict[str, str]) -> None:
    """Enable the plugin in the isolated profile (qgis_process only loads enabled plugins)."""
    proc = run_qgis_process(["plugins", "enable", "changelens"], env, timeout=120)
    if proc.returncode != 0 and "already enabled" not in proc.stdout + proc.stderr:
        raise RuntimeError(f"qgis_process could not enable ChangeLens:\n{proc.stdout}\n{proc.stderr}")


def run_algorithm(
    env: dict[str, str], algorithm: str, params: dict[str, Any]
) -> tuple[int, dict[str, Any] | None, str]:
    """Run ``algorithm`` with ``--json``; returns (exit code, parsed JSON or None, stderr)."""
    proc = run_qgis_process(["run", algorithm, "--json", "--", *(f"{k}={v}" for k, v in params.items())], env)
    try:
        payload = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        payload = None
    return proc.returncode, payload, proc.stderr + proc.stdout
