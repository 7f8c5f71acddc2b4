"""``changelens batch JOB``: placeholder until the cluster runner lands."""

from __future__ import annotations

from typing import Any


def add_batch_command(subparsers: Any) -> None:
    """The ``batch`` subcommand."""
