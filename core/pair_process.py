"""One pair of a cluster job in a fresh Python process (``python -m changelens.core.pair_process``).

A Dask worker runs its tasks in a thread beside its own event loop, garbage collector and profiler; a
pair run there once gave empty class statistics in the test suite (one run in four, never outside it).
Each pair therefore runs in the main thread of its own process, as the command line runs it: GDAL
starts fresh for every pair, nothing piles up over thousands of pairs, and the worker stays small.
The child watches its parent and ends itself when the worker dies, so a pair retried elsewhere never
races a leftover copy of itself.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time

from .batch import ScenePair
from .batch_job import PairOutcome, PairTask, run_pair_task, worker_name

WATCH_SECONDS = 0.5


def task_json(task: PairTask) -> str:
    """The task as JSON (plain values only)."""
    return json.dumps(dataclasses.asdict(task))


def task_from_json(text: str) -> PairTask:
    """The task written by :func:`task_json`."""
    data = json.loads(text)
    return PairTask(**{**data, "pair": ScenePair(**data["pair"])})


def run_pair_in_process(task: PairTask) -> PairOutcome:
    """Run ``task`` in a child process and return its outcome (a crash of the child is a failed pair)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-m", "changelens.core.pair_process", str(os.getpid())],
        input=task_json(task),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return PairOutcome(
            task.pair.name, "failed", error=f"the pair's process failed ({reason})", worker=worker_name()
        )
    return dataclasses.replace(PairOutcome(**json.loads(lines[-1])), worker=worker_name())


def _watch_parent(parent: int) -> None:
    """End this process when ``parent`` (the worker) is gone."""
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(137)


def main() -> int:
    """Read a task on stdin, run it, print its outcome as one JSON line."""
    if len(sys.argv) > 1:
        threading.Thread(target=_watch_parent, args=(int(sys.argv[1]),), daemon=True).start()
    outcome = run_pair_task(task_from_json(sys.stdin.read()))
    sys.stdout.write(json.dumps(dataclasses.asdict(outcome)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
