"""Processing Toolbox context-menu action: open a ChangeLens workflow in the Model Designer.

QGIS offers "Edit Model…" only for its own model providers; shipped workflows get the same
through this action. It opens a copy (not the file inside the plugin folder), so saving asks
where to save and the result becomes one of the user's own models.
"""

from __future__ import annotations

from typing import Any

from processing.gui.ContextAction import ContextAction
from qgis.PyQt.QtCore import QCoreApplication

from ..processing.workflows import WorkflowAlgorithm


class EditWorkflowAction(ContextAction):
    """ "Edit a Copy in the Model Designer…" for ChangeLens workflows."""

    def __init__(self) -> None:
        super().__init__()
        self.name = QCoreApplication.translate("ChangeLens", "Edit a Copy in the Model Designer…")

    def isEnabled(self) -> bool:  # noqa: N802 - QGIS API
        return isinstance(getattr(self, "itemData", None), WorkflowAlgorithm)

    def execute(self) -> Any:
        """Open the designer on a copy of the workflow; returns the dialog."""
        from processing.modeler.ModelerDialog import ModelerDialog

        dialog = ModelerDialog.create(self.itemData.editable_copy())  # kept alive by ModelerDialog
        dialog.show()
        dialog.activate()
        return dialog
