"""Errors under ``qgis_process``: each ChangeLens error is printed once.

Why it was printed three times: when an algorithm raises ``QgsProcessingException``,
``QgsProcessingAlgorithm::run`` (QGIS 3.22 to 3.44) logs the text to the message log and then
calls ``feedback->reportError``. ``qgis_process`` echoes every *critical* message-log entry to
stderr, its console feedback prints ``ERROR:\\t<text>``, and the base ``reportError`` logs the
text to the message log a second time: two bare echoes around the ``ERROR:`` line (and the two
bare echoes alone with ``--json``, whose feedback prints nothing).

:func:`report_failure` runs as the error leaves a ChangeLens algorithm under ``qgis_process``:
it mutes the message log's echo (its signals) for the rest of the failed run, so the console
feedback's ``ERROR:`` line is the only one; with ``--json`` it prints the text once itself.
:func:`restore` un-mutes at the start of every run (never at exit: the message log may be
gone by then). Nothing changes in the desktop, in scripts, or for child runs whose feedback is a
Python object (the batch algorithm collects their errors itself).
"""

from __future__ import annotations

import sys

from qgis.core import QgsApplication, QgsProcessingFeedback
from qgis.PyQt.QtCore import QCoreApplication

_muted: list[bool] = []


def on_command_line() -> bool:
    """True inside ``qgis_process``."""
    return QgsApplication.platform() == "qgis_process"


def report_failure(error: str, feedback: QgsProcessingFeedback | None) -> None:
    """Let ``qgis_process`` print ``error`` once (called just before the exception leaves the algorithm)."""
    if not on_command_line() or type(feedback) is not QgsProcessingFeedback:
        return  # the desktop, a script, or a child run whose Python feedback handles errors itself
    log = QgsApplication.messageLog()
    if not log.signalsBlocked():
        log.blockSignals(True)
        _muted.append(True)
    if "--json" in QCoreApplication.arguments():
        sys.stderr.write(f"{error}\n")  # the JSON console feedback prints no errors: say it once here
        sys.stderr.flush()


def restore() -> None:
    """Un-mute the message log if :func:`report_failure` muted it."""
    if _muted:
        _muted.clear()
        QgsApplication.messageLog().blockSignals(False)
