"""Where the panel writes a run's files: a folder remembered per project, never temporary files by default.

Temporary outputs (and the report) vanished when QGIS closed. The default is a ``ChangeLens``
folder beside the project file, or in the home folder while the project is unsaved; a folder the
user picks is stored in the project (``[changelens] output_folder``) and comes back with it.
"""

from __future__ import annotations

import os
from typing import Any

from qgis.core import QgsProject

SCOPE = "changelens"
KEY = "output_folder"
FOLDER_NAME = "ChangeLens"


def default_folder(project: QgsProject) -> str:
    """``<project folder>/ChangeLens``, or ``~/ChangeLens`` for an unsaved project."""
    if project.fileName():
        return os.path.join(project.absolutePath(), FOLDER_NAME)
    return os.path.join(os.path.expanduser("~"), FOLDER_NAME)


def remembered_folder(project: QgsProject) -> str:
    """The folder chosen for this project, else :func:`default_folder`."""
    chosen, found = project.readEntry(SCOPE, KEY, "")
    return chosen if found and chosen else default_folder(project)


def remember_folder(project: QgsProject, folder: str) -> None:
    """Store ``folder`` in the project (nothing is stored while it is the default)."""
    if folder and folder != default_folder(project):
        project.writeEntry(SCOPE, KEY, folder)
    elif project.readEntry(SCOPE, KEY, "")[1]:
        project.removeEntry(SCOPE, KEY)


def ensure_folder(folder: str) -> str | None:
    """Create ``folder`` when missing; the reason in one sentence when that fails (None when it exists)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        return f"Cannot create the output folder '{folder}' ({exc.strerror or exc}): choose another one."
    return None


class PanelOutputs:
    """The panel's output choices: the folder remembered per project, the report's title and basemap."""

    project: QgsProject
    syncing_folder: bool

    def sync_folder(self, *_args: object) -> None:
        """Show the output folder remembered for the current project (or its default)."""
        self.syncing_folder = True
        self.folder_widget.setFilePath(remembered_folder(self.project))
        self.syncing_folder = False

    def _folder_changed(self, path: str) -> None:
        if not self.syncing_folder:
            remember_folder(self.project, path)
        self._update_state()

    def report_choices(self) -> dict[str, Any]:
        """The event title and basemap layer id for the report (empty when not chosen)."""
        basemap = self.basemap_combo.currentLayer()
        return {"event_title": self.title_edit.text().strip(), "basemap_layer": basemap.id() if basemap else None}
