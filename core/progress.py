"""Progress callbacks: ``progress(fraction) -> keep_going``.

Every long operation takes such a callback; it reports a fraction in [0, 1] and
stops (raising :class:`CancelledError`) as soon as the callback returns False.
"""

from __future__ import annotations

from typing import Callable

from .errors import CancelledError

Progress = Callable[[float], bool]


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
