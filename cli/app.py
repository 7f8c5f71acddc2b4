"""The parser and the runs of the ``changelens`` command (``cli/__init__.py`` checks GDAL first)."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ..core.errors import CancelledError, ChangeLensError, InputError
from ..core.methods import METHODS
from .batch import add_batch_command
from .methods import UsageError, add_method_command

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def version() -> str:
    """The installed package's version, else the plugin's ``metadata.txt`` version."""
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        return package_version("changelens")
    except (ImportError, PackageNotFoundError):
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per method of ``METHODS`` and ``batch``."""
    parser = argparse.ArgumentParser(
        prog="changelens",
        description="Map what changed between two images (burn severity, floods, landslides, change, vegetation "
        "loss) without QGIS: the same methods, parameters and outputs as the ChangeLens QGIS plugin.",
        epilog="Run 'changelens <command> --help' for the parameters of one method.",
    )
    parser.add_argument("--version", action="version", version=f"changelens {version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="<command>")
    for method in METHODS:
        add_method_command(subparsers, method)
    add_batch_command(subparsers)
    return parser


def _say(message: str) -> None:
    sys.stderr.write(f"changelens: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 1 failed, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "command"):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.command(args)
    except (UsageError, InputError) as exc:
        _say(str(exc))
        return EXIT_BAD_INPUT
    except CancelledError:
        _say("The run was cancelled; no output was written.")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _say("Interrupted; no output of the running pair or run was kept.")
        return EXIT_INTERRUPTED
    except ChangeLensError as exc:
        _say(str(exc))
        return EXIT_FAILED
    except (RuntimeError, OSError) as exc:  # GDAL errors (exceptions on) and the file system
        reason = " ".join(str(exc).split()) or type(exc).__name__
        _say(
            f"Reading or writing a file failed ({reason}); check the input files and the free space in the output "
            "folder."
        )
        return EXIT_FAILED
