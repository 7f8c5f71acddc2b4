"""The ``changelens`` command: every index method and runs over many scene pairs, without QGIS.

Layering: ``cli`` imports ``core`` only (never QGIS, ``processing`` or ``ui``); installed with
``pip install .`` as the ``changelens`` console script, or run as ``python -m changelens.cli``.
This module imports nothing of ``core`` itself, so that a Python without GDAL's bindings gets one
sentence instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

EXIT_BAD_INPUT = 2


def _gdal_missing() -> str | None:
    """The sentence to print when this Python cannot import GDAL's bindings (``osgeo``), else None."""
    try:
        from osgeo import gdal  # noqa: F401
    except ImportError as error:
        return (
            f"GDAL's Python bindings are not importable from {sys.executable} ({error}): make the venv from the "
            "Python that has them, e.g. '/usr/bin/python3 -m venv --system-site-packages venv' on Debian or Ubuntu "
            "(package python3-gdal), or install the 'gdal' package that matches your GDAL library."
        )
    return None


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per index method and ``batch`` (see :mod:`.app`)."""
    from .app import build_parser as build

    return build()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 1 failed, 2 bad input or no GDAL, 130 interrupted)."""
    missing = _gdal_missing()
    if missing:
        sys.stderr.write(f"changelens: error: {missing}\n")
        return EXIT_BAD_INPUT
    from .app import main as run

    return run(argv)
