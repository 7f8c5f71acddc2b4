"""One transaction per run: every output is staged, and all of them appear together or none does.

A run reserves each destination before reading a single pixel (:meth:`Transaction.reserve`):
the folder must exist and a hidden staging folder must be creatable in it, which is the only
reliable test of writability (read-only mounts, permissions, quotas). Writers then write to the
staged path, where GDAL's ``.aux.xml``, ChangeLens's ``.qml`` and a Shapefile's parts land too.
:meth:`Transaction.commit` moves every staged file into place; files the run replaces are set
aside first and put back if a move fails, so a failed commit leaves the destinations as they
were. :meth:`Transaction.discard` (on error or cancel) removes every staged file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from dataclasses import dataclass

from ..errors import OutputError

STAGING_PREFIX = ".changelens-"


@dataclass(frozen=True)
class Reservation:
    """A destination and where the run writes it until commit."""

    final: str
    staged: str
    label: str
    companions: tuple[str, ...]  # stale files next to ``final`` that a new output replaces (sidecars)


def companions_of(path: str) -> tuple[str, ...]:
    """Sidecar names a raster or vector output may carry: ``.aux.xml``, ``.qml`` and Shapefile parts."""
    stem, ext = os.path.splitext(path)
    names = [path + ".aux.xml", stem + ".qml"]
    if ext.lower() == ".shp":
        names += [stem + e for e in (".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix")]
    return tuple(names)


class Transaction:
    """The outputs of one run, committed together.

    Use as a context manager: the block's normal end commits, an exception (including
    :class:`~changelens.core.errors.CancelledError`) discards. ``run_id`` names the staging
    folders ``.changelens-<run_id>`` so that two runs never share one.
    """

    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:12]
        self._folders: dict[str, str] = {}
        self._reserved: dict[str, Reservation] = {}
        self.committed = False

    # -- reserving -----------------------------------------------------------------------------

    def _staging_folder(self, folder: str, label: str) -> str:
        if folder in self._folders:
            return self._folders[folder]
        if not os.path.isdir(folder):
            raise OutputError(f"The folder for the {label} ('{folder}') does not exist: create it or choose another.")
        staging = os.path.join(folder, STAGING_PREFIX + self.run_id)
        try:
            os.mkdir(staging)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise OutputError(
                f"The {label} cannot be written to '{folder}' ({reason}): choose a folder you can write to."
            ) from exc
        self._folders[folder] = staging
        return staging

    def reserve(self, final: str, label: str) -> str:
        """Check that ``final`` can be written and return the path to write it to until commit.

        Raises :class:`~changelens.core.errors.OutputError` (one sentence naming the output and
        what to do) when the folder is missing or not writable, or when two outputs of the run
        share one path.
        """
        final = os.path.abspath(final)
        if final in self._reserved:
            raise OutputError(f"Two outputs of this run are both written to '{final}': give each its own file.")
        if os.path.isdir(final):
            raise OutputError(f"Cannot write '{final}': a folder has that name; give the {label} a file name.")
        staging = self._staging_folder(os.path.dirname(final), label)
        staged = os.path.join(staging, os.path.basename(final))
        self._reserved[final] = Reservation(final, staged, label, companions_of(final))
        return staged

    def path_for(self, final: str, label: str) -> str:
        """The staged path of ``final``: the one reserved earlier in the run, or a new reservation."""
        reservation = self._reserved.get(os.path.abspath(final))
        return reservation.staged if reservation else self.reserve(final, label)

    def final_of(self, staged: str) -> str:
        """The destination of a staged path (the path itself when it is not staged)."""
        for reservation in self._reserved.values():
            if reservation.staged == staged:
                return reservation.final
        return staged

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        """Every reserved destination, in reservation order."""
        return tuple(self._reserved.values())

    # -- ending --------------------------------------------------------------------------------

    def commit(self) -> list[str]:
        """Move every staged file into place; return the destinations that were written.

        A reserved output that was never written (an optional output the run skipped) is
        simply absent. On failure the previous files are restored and
        :class:`~changelens.core.errors.OutputError` is raised.
        """
        moves: list[tuple[str, str]] = []
        for folder, staging in self._folders.items():
            for name in sorted(os.listdir(staging)):
                source = os.path.join(staging, name)
                if os.path.isfile(source):
                    moves.append((source, os.path.join(folder, name)))
        stale = {c for r in self._reserved.values() if os.path.exists(r.staged) for c in r.companions}
        stale -= {target for _source, target in moves}
        backups: list[tuple[str, str]] = []
        done: list[str] = []
        try:
            for index, target in enumerate(sorted({t for _s, t in moves} | stale)):
                if os.path.lexists(target):
                    backup = os.path.join(self._folders[os.path.dirname(target)], f".old-{index}")
                    os.replace(target, backup)
                    backups.append((backup, target))
            for source, target in moves:
                os.replace(source, target)
                done.append(target)
        except OSError as exc:
            for target in done:
                with contextlib.suppress(OSError):
                    os.remove(target)
            for backup, target in backups:
                with contextlib.suppress(OSError):
                    os.replace(backup, target)
            self.discard()
            raise OutputError(
                f"The outputs could not be moved into place ({exc.strerror or exc}); none was kept."
            ) from exc
        self.committed = True
        self._cleanup()
        return [r.final for r in self._reserved.values() if os.path.exists(r.final)]

    def discard(self) -> None:
        """Remove every staged file and staging folder; destinations stay as they were."""
        self._cleanup()

    def _cleanup(self) -> None:
        for staging in self._folders.values():
            shutil.rmtree(staging, ignore_errors=True)
        self._folders.clear()

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if exc_type is None and not self.committed:
            self.commit()
        elif exc_type is not None:
            self.discard()
