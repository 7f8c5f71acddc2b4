"""A small, bounded thread pool over blocks whose results are consumed in order.

GDAL reads and numpy arithmetic release the GIL, so two threads computing blocks keep both
cores busy while the calling thread writes the previous results. At most
``blocks_in_flight`` blocks exist at once, so memory stays bounded by the block size,
never by the raster size. Results are consumed in block order on the calling thread:
writes, class areas and samples accumulate exactly as in a single-threaded run, so the
outputs are identical whatever the thread count.

Workers never touch output datasets. Each worker task runs inside
:func:`~changelens.core.gdal_state.gdal_exceptions` (GDAL >= 3.7 may keep the exception
flag per thread). A failure in a worker, or a cancel on the calling thread, stops the
pool: queued blocks are dropped, running ones finish, then the exception propagates and
the caller's transaction removes every staged file.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from ..gdal_state import gdal_exceptions
from ..io.windows import STRIP_WIDTH_PX

T = TypeVar("T")
R = TypeVar("R")

MAX_AUTO_WORKERS = 4
ENV_WORKERS = "CHANGELENS_BLOCK_THREADS"


@dataclass(frozen=True)
class StreamConfig:
    """How many threads compute blocks (0 = automatic: the CPU count, at most 4; 1 = no worker thread),
    how many blocks may be in flight at once (0 = one more than the workers: one being written) and
    how wide a block is (256 rows high)."""

    workers: int = 0
    blocks_in_flight: int = 0
    block_width_px: int = STRIP_WIDTH_PX

    def worker_count(self) -> int:
        """Threads that compute blocks; ``CHANGELENS_BLOCK_THREADS`` overrides the automatic choice."""
        if self.workers > 0:
            return self.workers
        override = os.environ.get(ENV_WORKERS, "").strip()
        if override.isdigit() and int(override) > 0:
            return int(override)
        return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))

    def in_flight(self) -> int:
        """Blocks submitted but not yet consumed (at least one per worker)."""
        workers = self.worker_count()
        return max(self.blocks_in_flight or workers + 1, workers)


class _Stopped(Exception):
    """A queued block was dropped because the run is stopping."""


def run_ordered(
    items: Iterable[T],
    work: Callable[[T], R],
    consume: Callable[[R], None],
    config: StreamConfig = StreamConfig(),
) -> None:
    """``consume(work(item))`` for every item, in order; ``work`` runs on worker threads.

    With one worker everything runs on the calling thread (the reference behaviour). An
    exception from ``work`` or ``consume`` stops the pool, waits for running workers and is
    re-raised here; ``consume`` is never called after it.
    """
    workers = config.worker_count()
    if workers <= 1:
        for item in items:
            consume(work(item))
        return
    stopping = threading.Event()

    def guarded(item: T) -> R:
        if stopping.is_set():
            raise _Stopped
        with gdal_exceptions():
            return work(item)

    pending: deque[Future[R]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="changelens-block")
    limit = config.in_flight()
    try:
        for item in items:
            pending.append(pool.submit(guarded, item))
            while len(pending) >= limit:
                consume(pending.popleft().result())
        while pending:
            consume(pending.popleft().result())
    finally:
        stopping.set()
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
