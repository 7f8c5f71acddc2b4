"""A many-pairs job without QGIS: the job file of "Run on many scene pairs", and one pair's run.

The job file is the one ``qgis_process run changelens:manypairs -- JOB=job.json`` reads
(``{"inputs": {"INPUT_FOLDER" | "PAIR_LIST", "ALGORITHM", "PARAMETERS", "OUTPUT_FOLDER", ...}}``,
relative paths relative to the file); pairs are found by :mod:`.batch`. Without QGIS the
algorithm must be a declared index method (workflows and other providers' algorithms need QGIS).

:func:`run_pair_task` is what a cluster worker runs for one pair. It is safe to run again: a pair
whose outputs are complete (a marker written after the commit names them, their sizes and what
made them) is skipped, and staging folders left by a worker that died mid-pair are removed first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .batch import ScenePair, discover_pairs, read_pair_list, unique_names
from .errors import InputError, ParameterError
from .methods import METHODS, method_by_id
from .methods.declaration import CONFIG_PARAMS
from .outputs.transaction import STAGING_PREFIX
from .runner import run_declared
from .values import all_params, check_names, image_names, is_output, outputs_in_folder, request_from_values

JOB_KEYS = (
    "INPUT_FOLDER",
    "PAIR_LIST",
    "ALGORITHM",
    "PARAMETERS",
    "BEFORE_PARAMETER",
    "AFTER_PARAMETER",
    "OUTPUT_FOLDER",
    "OUTPUT_SUMMARY",
    "SCHEDULER",
)
PATH_KEYS = ("INPUT_FOLDER", "PAIR_LIST", "OUTPUT_FOLDER", "OUTPUT_SUMMARY")
MARKER = ".changelens-pair.json"  # written into a pair's folder after its outputs were committed


@dataclass(frozen=True)
class MethodCall:
    """A method, its extra parameters, and the names of the parameters that take a pair's two images."""

    method_id: str
    parameters: Mapping[str, Any]
    before: str
    after: str


@dataclass(frozen=True)
class Job(MethodCall):
    """A checked job: the method call, its pairs, where outputs go, and the Dask scheduler if any."""

    pairs: tuple[ScenePair, ...]
    output_folder: str
    summary: str | None = None
    scheduler: str = ""


def method_id_of(algorithm: str) -> str:
    """``changelens:burnseverity`` or ``burnseverity`` -> ``burnseverity``; anything else needs QGIS."""
    text = (algorithm or "changelens:burnseverity").strip()
    alg_id = text.split(":", 1)[1] if text.lower().startswith("changelens:") else text
    if alg_id in {m.id for m in METHODS}:
        return alg_id
    offered = ", ".join(f"changelens:{m.id}" for m in METHODS)
    raise InputError(
        f"'{text}' cannot run without QGIS (workflows, models and other algorithms need it): run this job with "
        f"qgis_process run changelens:manypairs -- JOB=..., or pick one of {offered}."
    )


def _extra(raw: Any) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):
        return dict(raw)
    try:
        value = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise InputError(
            f'PARAMETERS is not valid JSON ({exc.msg}): write an object such as {{"MIN_AREA_M2": 500}}.'
        ) from exc
    if not isinstance(value, dict):
        raise InputError('PARAMETERS must be a JSON object such as {"MIN_AREA_M2": 500}.')
    return value


def job_inputs(path: str) -> dict[str, Any]:
    """The ``inputs`` of a job file, relative paths made absolute from the file's folder."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"The job file '{path}' cannot be read as JSON ({exc}).") from exc
    inputs = data.get("inputs", data) if isinstance(data, dict) else None
    if not isinstance(inputs, dict):
        raise InputError(f'The job file \'{path}\' must hold {{"inputs": {{"PARAMETER": value, ...}}}}.')
    unknown = sorted(set(inputs) - set(JOB_KEYS))
    if unknown:
        raise InputError(f"The job file names unknown parameter(s) {', '.join(unknown)}; use: {', '.join(JOB_KEYS)}.")
    base = os.path.dirname(os.path.abspath(path))
    return {
        key: os.path.normpath(os.path.join(base, value))
        if key in PATH_KEYS and isinstance(value, str) and value and not os.path.isabs(value)
        else value
        for key, value in inputs.items()
    }


def make_job(inputs: Mapping[str, Any]) -> Job:
    """A checked :class:`Job` from job inputs (raises :class:`InputError` with one sentence)."""
    method = method_by_id(method_id_of(str(inputs.get("ALGORITHM") or "")))
    extra = _extra(inputs.get("PARAMETERS"))
    check_names(method, extra)
    method.build_config({p.name: extra.get(p.name) for p in method.params if isinstance(p, CONFIG_PARAMS)})
    before, after = image_names(method)
    before = str(inputs.get("BEFORE_PARAMETER") or "").strip() or before
    after = str(inputs.get("AFTER_PARAMETER") or "").strip() or after
    names = {image.name for image in method.images()}
    for name in (before, after):
        if name not in names:
            raise ParameterError(f"changelens:{method.id} has no image parameter '{name}': use {', '.join(names)}.")
    folder, list_path = inputs.get("INPUT_FOLDER"), inputs.get("PAIR_LIST")
    if not folder and not list_path:
        raise InputError("Give a folder of scene pairs (INPUT_FOLDER) or a list of pairs (PAIR_LIST) in the job.")
    pairs = (discover_pairs(str(folder)) if folder else []) + (read_pair_list(str(list_path)) if list_path else [])
    if not pairs:
        raise InputError(
            f"No scene pairs found in '{folder or list_path}': use sub-folders with pre.tif and post.tif, "
            "<name>_pre.tif / <name>_post.tif files, or a list of before,after lines."
        )
    output = inputs.get("OUTPUT_FOLDER")
    if not output:
        raise InputError("Give the output folder (OUTPUT_FOLDER in the job file, or --output-folder).")
    return Job(
        method.id,
        extra,
        before,
        after,
        tuple(unique_names(pairs)),
        os.path.abspath(str(output)),
        str(inputs["OUTPUT_SUMMARY"]) if inputs.get("OUTPUT_SUMMARY") else None,
        str(inputs.get("SCHEDULER") or ""),
    )


@dataclass(frozen=True)
class PairTask(MethodCall):
    """One pair of a job and its output folder, as sent to a worker (plain values only)."""

    pair: ScenePair
    folder: str


@dataclass(frozen=True)
class PairOutcome:
    """What one pair gave: ``status`` ok or failed, class rows, seconds, and whether it was done before."""

    name: str
    status: str
    classes: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    folder: str = ""
    error: str = ""
    worker: str = ""
    reused: bool = False


def tasks_of(job: Job) -> list[PairTask]:
    """One task per pair, its outputs in ``<output folder>/<pair>/``."""
    return [
        PairTask(
            job.method_id, dict(job.parameters), job.before, job.after, pair, os.path.join(job.output_folder, pair.name)
        )
        for pair in job.pairs
    ]


def _file_facts(path: str) -> list[Any]:
    info = os.stat(path)
    return [os.path.abspath(path), info.st_size, int(info.st_mtime)]


def fingerprint(task: PairTask) -> str:
    """What made a pair's outputs: method, parameters, and the images (path, size, modification time)."""
    images = [_file_facts(p) if os.path.exists(p) else [p] for p in (task.pair.before, task.pair.after)]
    text = json.dumps([task.method_id, sorted(task.parameters.items(), key=lambda kv: kv[0]), images], default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def completed(task: PairTask) -> dict[str, Any] | None:
    """The marker of a pair whose outputs are complete and were made from the same inputs, else None."""
    try:
        with open(os.path.join(task.folder, MARKER), encoding="utf-8") as handle:
            marker = json.load(handle)
    except (OSError, json.JSONDecodeError):
        return None
    if marker.get("fingerprint") != fingerprint(task):
        return None
    for path, size in marker.get("outputs", {}).items():
        if not os.path.isfile(path) or os.path.getsize(path) != size:
            return None
    return marker


def _remove_stale_staging(folder: str) -> None:
    """Staging and scratch folders a run left when its worker died (``.changelens-*``)."""
    if os.path.isdir(folder):
        for entry in os.listdir(folder):
            path = os.path.join(folder, entry)
            if entry.startswith(STAGING_PREFIX) and os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)


def remove_new_files(folder: str, existing: set[str]) -> None:
    """After a failed pair, remove what its run wrote in ``folder`` (keeping files that were there before),
    and the folder itself when it was new and is now empty."""
    if not os.path.isdir(folder):
        return
    for entry in set(os.listdir(folder)) - existing:
        path = os.path.join(folder, entry)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.remove(path)
    if not existing and not os.listdir(folder):
        os.rmdir(folder)


def worker_name() -> str:
    """``host:pid`` of the process running a pair."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_pair_task(task: PairTask) -> PairOutcome:
    """Run one pair (or skip it when its outputs are complete); a failure is returned, never raised."""
    started = time.perf_counter()
    pair = task.pair
    if pair.problem:
        return PairOutcome(pair.name, "failed", error=pair.problem, worker=worker_name())
    done = completed(task)
    if done is not None:
        return PairOutcome(
            pair.name, "ok", done["classes"], done["seconds"], task.folder, worker=worker_name(), reused=True
        )
    _remove_stale_staging(task.folder)
    existing = set(os.listdir(task.folder)) if os.path.isdir(task.folder) else set()
    try:
        os.makedirs(task.folder, exist_ok=True)
        method = method_by_id(task.method_id)
        named = {
            k: v for k, v in task.parameters.items() if any(p.name == k and is_output(p) for p in all_params(method))
        }
        values = {**task.parameters, task.before: pair.before, task.after: pair.after}
        values.update(outputs_in_folder(method, task.folder, named))
        request, destinations = request_from_values(method, values)
        outcome = run_declared(method, request, destinations)
        classes = json.loads(outcome.results["CLASS_AREAS"])
        seconds = time.perf_counter() - started
        written = [p for p in values.values() if isinstance(p, str) and p.startswith(task.folder) and os.path.isfile(p)]
        marker = {
            "fingerprint": fingerprint(task),
            "outputs": {p: os.path.getsize(p) for p in written},
            "classes": classes,
            "seconds": round(seconds, 2),
        }
        with open(os.path.join(task.folder, MARKER), "w", encoding="utf-8") as handle:
            json.dump(marker, handle)
    except Exception as exc:  # noqa: BLE001 - one pair's failure, whatever it is, must not stop the others
        remove_new_files(task.folder, existing)
        message = " ".join(str(exc).split()) or type(exc).__name__
        return PairOutcome(pair.name, "failed", [], time.perf_counter() - started, "", message, worker_name())
    return PairOutcome(pair.name, "ok", classes, seconds, task.folder, worker=worker_name())
