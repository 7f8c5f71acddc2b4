"""Many scene pairs on a Dask cluster (``dask.distributed``), or one after another in this process.

Dask does the scheduling: one task per pair (:func:`~.batch_job.run_pair_task`), sent to a
scheduler given by address (``tcp://host:8786``: clusters started by ``dask scheduler`` /
``dask worker``, dask-jobqueue on Slurm or PBS, dask-kubernetes ...) or to a
:class:`distributed.LocalCluster` of worker processes on this machine. A worker that dies has
its pairs re-run elsewhere by the scheduler (staging folders it left are removed first); a pair
that fails is one ``failed`` row, never the end of the job; pairs whose outputs are complete are
skipped. Each task runs its pair in a fresh process (:mod:`.pair_process`) that streams block by
block, so a one-thread worker needs what one run needs. ``distributed`` is imported only here,
and only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from .batch_job import Job, PairOutcome, completed, run_pair_task, tasks_of
from .batch_report import write_job_report
from .batch_summary import summary_rows, write_summary_csv
from .errors import InputError
from .outputs.tables import write_table
from .pair_process import run_pair_in_process
from .progress import Log, no_log

OnDone = Callable[[PairOutcome, int, int], None]  # (outcome, pairs finished, pairs in the job)


def distributed_version() -> str | None:
    """The installed ``distributed`` version, or None (read from the package metadata, nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("distributed")
    except PackageNotFoundError:
        return None


def install_hint(python: str = sys.executable) -> str:
    """How to install what cluster runs need, for the Python that runs ChangeLens."""
    return f"{python} -m pip install distributed"


def distributed_module() -> Any:
    """The ``distributed`` module; raises :class:`InputError` saying how to install it when it is missing."""
    try:
        import distributed
    except ImportError as exc:
        raise InputError(
            "Running scene pairs on a Dask cluster needs the 'distributed' package, which is not installed for "
            f"this Python: install it with '{install_hint()}' (in QGIS, the ChangeLens Doctor offers it)."
        ) from exc
    return distributed


def connect(scheduler: str = "", workers: int = 0, log: Log = no_log) -> tuple[Any, Any]:
    """A Dask client of the scheduler at ``scheduler``, or of a new local cluster of ``workers`` processes.

    Returns ``(client, cluster)``; ``cluster`` is None for a scheduler given by address.
    """
    distributed = distributed_module()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"No Dask scheduler answers at '{scheduler}' ({exc}): start one with 'dask scheduler' and its "
                f"workers with 'dask worker {scheduler} --nthreads 1'."
            ) from exc
        return client, None
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    log(f"Started a local Dask cluster of {workers} worker process(es) of 1 thread.")
    return distributed.Client(cluster), cluster


def _warn_threads(client: Any, log: Log) -> None:
    threads = client.nthreads()
    if not threads:
        log("The scheduler has no worker yet: pairs wait until one connects.")
    busy = {address: n for address, n in threads.items() if n > 1}
    if busy:
        log(
            f"{len(busy)} worker(s) run {max(busy.values())} threads: each thread maps one pair at a time, so such "
            "a worker needs that many times the memory of one run (start workers with --nthreads 1 to avoid it)."
        )


def _on_cluster(client: Any, job: Job, on_done: OnDone, log: Log, stop: Callable[[], bool]) -> list[PairOutcome]:
    distributed = distributed_module()
    outcomes: dict[str, PairOutcome] = {}
    tasks = []
    for task in tasks_of(job):  # pairs complete before (seen from here) are not sent at all
        if completed(task) is None:
            tasks.append(task)
        else:
            outcomes[task.pair.name] = run_pair_task(task)
            on_done(outcomes[task.pair.name], len(outcomes), len(job.pairs))
    _warn_threads(client, log)
    token = uuid.uuid4().hex[:8]
    keys = [f"changelens-{task.pair.name}-{token}" for task in tasks]
    futures = client.map(run_pair_in_process, tasks, key=keys, pure=False, retries=1)
    by_key = {key: task for key, task in zip(keys, tasks)}
    for future in distributed.as_completed(futures):
        if stop():
            client.cancel(futures)
            break
        task = by_key[future.key]
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the pair's workers kept dying
            reason = " ".join(str(exc).split()) or type(exc).__name__
            outcome = PairOutcome(task.pair.name, "failed", error=f"the cluster could not run it ({reason})")
        outcomes[task.pair.name] = outcome
        on_done(outcome, len(outcomes), len(job.pairs))
    return [outcomes.get(pair.name) or _cancelled(pair.name) for pair in job.pairs]


def _cancelled(name: str) -> PairOutcome:
    return PairOutcome(name, "cancelled", error="the run was cancelled before this pair")


@dataclass(frozen=True)
class JobResult:
    """A finished job: outcomes in pair order, wall time, and the summary and report written."""

    outcomes: list[PairOutcome]
    rows: list[dict[str, Any]]
    seconds: float
    summary_csv: str
    report: str
    workers: int

    @property
    def succeeded(self) -> int:
        """Pairs that are done (run now or skipped as complete)."""
        return sum(1 for o in self.outcomes if o.status == "ok")

    @property
    def skipped(self) -> int:
        """Pairs whose outputs were already complete."""
        return sum(1 for o in self.outcomes if o.reused)


def run_job(
    job: Job,
    scheduler: str = "",
    workers: int = 0,
    on_done: OnDone = lambda outcome, done, total: None,
    log: Log = no_log,
    client: Any = None,
    stop: Callable[[], bool] = lambda: False,
) -> JobResult:
    """Run every pair of ``job`` and write ``summary.csv`` (and OUTPUT_SUMMARY) and ``job_report.html``.

    Without ``scheduler``, ``workers`` or ``client`` the pairs run one after another in this process.
    ``stop()`` returning True cancels the pairs not finished yet (they become ``cancelled`` rows).
    Raises :class:`InputError` when the cluster cannot be reached or ``distributed`` is missing.
    """
    os.makedirs(job.output_folder, exist_ok=True)
    started = time.perf_counter()
    cluster = None
    if client is None and (scheduler or workers):
        client, cluster = connect(scheduler, workers, log)
    try:
        if client is not None:
            count = len(client.nthreads())
            outcomes = _on_cluster(client, job, on_done, log, stop)
        else:
            count, outcomes = 1, []
            for task in tasks_of(job):
                outcomes.append(_cancelled(task.pair.name) if stop() else run_pair_task(task))
                on_done(outcomes[-1], len(outcomes), len(job.pairs))
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    seconds = time.perf_counter() - started
    pairs = {pair.name: pair for pair in job.pairs}
    rows = [
        row
        for o in outcomes
        for row in summary_rows(
            pairs[o.name], o.status, o.classes, o.seconds, o.folder if o.status == "ok" else "", o.error
        )
    ]
    csv_path = os.path.join(job.output_folder, "summary.csv")
    write_summary_csv(csv_path, rows)
    if job.summary and os.path.abspath(job.summary) != csv_path:
        if job.summary.lower().endswith(".csv"):
            write_summary_csv(job.summary, rows)
        else:
            write_table(job.summary, rows)
    report = os.path.join(job.output_folder, "job_report.html")
    write_job_report(report, job, outcomes, seconds, count)
    return JobResult(outcomes, rows, seconds, csv_path, report, count)
