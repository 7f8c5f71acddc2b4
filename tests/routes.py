"""Run an algorithm through either route a user takes: ``processing.run`` (desktop, scripts) or
``qgis_process.bin`` (the command line), with the user's error message on failure."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from qgis_process_runner import run_algorithm

ROUTES = ("processing", "qgis_process")


class RunFailed(Exception):
    """The run stopped with an error; the message is what the user read."""


def run(route: str, request: pytest.FixtureRequest, algorithm: str, params: dict[str, Any]) -> dict[str, Any]:
    """Results of ``algorithm`` through ``route``; :class:`RunFailed` with the user's message on an error."""
    if route == "processing":
        import processing

        request.getfixturevalue("provider")
        try:
            return processing.run(algorithm, params)
        except QgsProcessingException as exc:
            raise RunFailed(str(exc)) from exc
    env = dict(request.getfixturevalue("qgis_process_env"))
    spec = importlib.util.find_spec("onnxruntime")  # qgis_process runs the system Python: show it the venv's
    if spec and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
    code, payload, log = run_algorithm(env, algorithm, {k: str(v) for k, v in params.items()})
    if code != 0:
        raise RunFailed(log)
    return payload["results"]


class Recorder(QgsProcessingFeedback):
    """Feedback that keeps every log line (``lines``)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt name
        self.lines.append(info)
        super().pushInfo(info)


def run_logged(request: pytest.FixtureRequest, algorithm: str, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``processing.run`` results and the whole log (one string); :class:`RunFailed` on an error."""
    import processing

    request.getfixturevalue("provider")
    feedback = Recorder()
    try:
        return processing.run(algorithm, params, feedback=feedback), "\n".join(feedback.lines)
    except QgsProcessingException as exc:
        raise RunFailed(str(exc)) from exc
