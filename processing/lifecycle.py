"""Teardown that never assumes QGIS is still alive.

``unload()`` and other clean-up code run when a user disables the plugin (everything alive), but
also while QGIS exits: then the Processing registry may already be gone
(``QgsApplication.processingRegistry()`` is None on QGIS 3.44 while the registry's own destructor
unloads providers), widgets may have been deleted by their parents, and signals' senders destroyed.
An exception there aborts ``qgis_process`` with exit code 134, so clean-up goes through these helpers.
"""

from __future__ import annotations

from typing import Any, Callable

from qgis.core import QgsApplication, QgsProcessingRegistry
from qgis.PyQt import sip


def alive(obj: Any) -> bool:
    """True when ``obj`` exists and, for a Qt/QGIS object, its C++ side has not been deleted."""
    if obj is None:
        return False
    try:
        return not sip.isdeleted(obj)
    except TypeError:  # a plain Python object
        return True


def processing_registry() -> QgsProcessingRegistry | None:
    """The Processing registry, or None once QGIS has destroyed it (at exit)."""
    registry = QgsApplication.processingRegistry()
    return registry if alive(registry) else None


def disconnect(sender: Any, signal_name: str, slot: Callable[..., Any]) -> bool:
    """Disconnect ``sender.<signal_name>`` from ``slot``; False when the sender or the connection is gone."""
    if not alive(sender):
        return False
    try:
        getattr(sender, signal_name).disconnect(slot)
    except (AttributeError, RuntimeError, TypeError):
        return False
    return True


def disconnect_all(*signals: Any) -> None:
    """Drop every receiver of each bound signal (a signal without receivers is fine)."""
    for signal in signals:
        try:
            signal.disconnect()
        except (RuntimeError, TypeError):
            continue
