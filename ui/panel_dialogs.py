"""The panel's non-modal dialogs (models, doctor, the full Processing dialog), kept while they live.

Processing's algorithm dialog deletes itself when closed; a list that kept its dead wrapper made
every later *Models…*, *Doctor…* and *All options…* fail with "wrapped C/C++ object ... has been
deleted". Dialogs are therefore only ever touched through :func:`alive`.
"""

from __future__ import annotations

from typing import Any

from ..processing.lifecycle import alive
from .runner import build_parameters
from .tasks import registered_algorithm


class PanelDialogs:
    """Opens and tracks the panel's dialogs (mixed into the panel widget)."""

    dialogs: list

    def _keep(self, dialog: Any) -> None:
        """Remember ``dialog``; forget the closed and the deleted ones."""
        self.dialogs = [d for d in self.dialogs if alive(d) and d.isVisible()] + [dialog]

    def close_dialogs(self) -> None:
        """Close every dialog still open (plugin unload, QGIS exit)."""
        dialogs, self.dialogs = self.dialogs, []
        for dialog in dialogs:
            if alive(dialog):
                if hasattr(dialog, "shutdown"):
                    dialog.shutdown()
                dialog.close()

    def open_models(self) -> Any:
        """The model manager; the method lists follow its imports and removals."""
        from .model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(self)
        dialog.models_changed.connect(self.reload_methods)
        self._keep(dialog)
        dialog.show()
        return dialog

    def open_doctor(self) -> Any:
        """The dependency doctor."""
        from .doctor import DoctorDialog

        dialog = DoctorDialog(self, status=self.runtime)
        self._keep(dialog)
        dialog.show()
        return dialog

    def open_in_processing(self) -> Any:
        """Open the full algorithm dialog, prefilled with the panel's choices (non-modal)."""
        from processing import createAlgorithmDialog

        method = self.current_method()
        if method is None:
            return None
        parameters = build_parameters(method, registered_algorithm(method), self.choices(), for_dialog=True)
        dialog = createAlgorithmDialog(method.algorithm_id, parameters)
        if dialog is not None:
            self._keep(dialog)
            dialog.show()
        return dialog
