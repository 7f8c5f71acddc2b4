"""Progress and log callbacks: ``progress(fraction) -> keep_going`` and ``log(message)``.

Every long operation takes a progress callback; it reports a fraction in [0, 1] and
stops (raising :class:`CancelledError`) as soon as the callback returns False. Core
never prints: what a run decided goes to the ``log`` callback the caller passes.
"""

from __future__ import annotations

from typing import Callable

from .errors import CancelledError

Progress = Callable[[float], bool]
Log = Callable[[str], None]


def no_log(_message: str) -> None:
    """A log sink that drops messages."""


def recording(log: Log, sink: list[tuple[str, str]], label: str) -> Log:
    """A log that also appends ``(label, message)`` to ``sink``: how an input was read goes to the
    run's log and, once, to the report's table of inputs."""

    def record(message: str) -> None:
        sink.append((label, message))
        log(message)

    return record


def no_progress(_fraction: float) -> bool:
    """A callback that ignores progress and never cancels."""
    return True


def sub_progress(progress: Progress, start: float, end: float) -> Progress:
    """Map a child's [0, 1] progress onto ``[start, end]`` of the parent's."""
    span = end - start

    def child(fraction: float) -> bool:
        return progress(start + span * min(max(fraction, 0.0), 1.0))

    return child


def report(progress: Progress, fraction: float) -> None:
    """Report ``fraction`` and raise :class:`CancelledError` if asked to stop."""
    if not progress(fraction):
        raise CancelledError("The run was cancelled.")
