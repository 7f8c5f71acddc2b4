""" "Run on many scene pairs" on a Dask cluster: the optional scheduler address and its run.

On a cluster the pairs run without QGIS (``core.cluster``: the workers need ChangeLens installed with
``pip install``, and ``distributed``), so only the declared index methods can run there; workflows and
other algorithms run in QGIS, one pair after another, as before.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterString,
)

from ..core.batch import ScenePair
from ..core.batch_job import Job, PairOutcome
from ..core.cluster import run_job
from .base import run_core

SCHEDULER = "SCHEDULER"
SCHEDULER_HELP = (
    "The address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) to spread the pairs over its workers; "
    "empty: the pairs run here, one after another. Needs the 'distributed' Python package here (the ChangeLens "
    "Doctor installs it) and, where the workers run, ChangeLens installed with 'pip install' and the images and "
    "output folder on paths the workers can read and write. Only ChangeLens index methods run on a cluster."
)


def scheduler_parameter() -> QgsProcessingParameterString:
    """The optional SCHEDULER parameter (added after the pinned ones)."""
    return QgsProcessingParameterString(
        SCHEDULER, "Dask scheduler address (empty: run the pairs here, one after another)", optional=True
    )


def cluster_method_id(alg: QgsProcessingAlgorithm) -> str:
    """The declared method behind ``alg``, or an error saying what can run on a cluster."""
    method = getattr(alg, "method", None)
    if method is None or not getattr(method, "id", ""):
        raise QgsProcessingException(
            f"'{alg.id()}' needs QGIS, which cluster workers do not have: on a Dask cluster pick a ChangeLens "
            "index method (burn severity, floods, landslides, change vectors, vegetation loss), or leave the "
            "scheduler address empty to run it here."
        )
    return method.id


def run_on_cluster(
    alg: QgsProcessingAlgorithm,
    extra: dict[str, Any],
    names: tuple[str, str],
    pairs: list[ScenePair],
    out_folder: str,
    scheduler: str,
    feedback: QgsProcessingFeedback,
) -> tuple[list[dict[str, object]], int, int]:
    """Run every pair on the cluster at ``scheduler``; returns the summary rows, pairs done and pairs failed."""
    method_id = cluster_method_id(alg)
    job = Job(method_id, extra, names[0], names[1], tuple(pairs), out_folder, None, scheduler)

    def done(outcome: PairOutcome, count: int, total: int) -> None:
        feedback.setProgress(100.0 * count / total)
        if outcome.status == "ok":
            how = "complete before, skipped" if outcome.reused else f"{outcome.seconds:.1f} s on {outcome.worker}"
            feedback.pushInfo(f"Pair '{outcome.name}' done ({how}).")
        else:
            feedback.reportError(f"Pair '{outcome.name}' {outcome.status}: {outcome.error}", fatalError=False)

    feedback.pushInfo(f"{len(pairs)} pair(s) sent to the Dask scheduler at {scheduler}.")
    result = run_core(lambda: run_job(job, scheduler, 0, done, feedback.pushInfo, stop=feedback.isCanceled))
    feedback.pushInfo(f"Job report: {result.report}")
    return result.rows, result.succeeded, len(result.outcomes) - result.succeeded
