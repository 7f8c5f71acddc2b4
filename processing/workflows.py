"""Workflows shipped with the plugin: the graphical models in ``workflows/*.model3``.

Each model becomes an algorithm of the ChangeLens provider with id ``changelens:<file stem>``
(a clean command-line id, whatever the model's display name), in the "Workflows" group. The
model's child algorithms are looked up in the Processing registry, so a workflow that uses
ChangeLens algorithms can only be completed once the provider is registered: the provider
reloads its workflows when that happens (as the QGIS model provider does for user models).
"""

from __future__ import annotations

import os
import re

from qgis.core import QgsProcessingAlgorithm, QgsProcessingModelAlgorithm

from .base import GROUPS, PLUGIN_DIR, icon

WORKFLOW_DIR = os.path.join(PLUGIN_DIR, "workflows")
WORKFLOW_GROUP_ID = "workflows"
WORKFLOW_GROUP = GROUPS[WORKFLOW_GROUP_ID]
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class WorkflowAlgorithm(QgsProcessingModelAlgorithm):
    """A shipped ``.model3`` model with a stable algorithm name taken from its file name."""

    def __init__(self, path: str, name: str) -> None:
        super().__init__()
        if not self.fromFile(path):
            raise ValueError(f"'{path}' is not a valid Processing model")
        self.setSourceFilePath(path)
        self._path = path
        self._name = name

    def name(self) -> str:
        return self._name

    def group(self) -> str:
        return WORKFLOW_GROUP

    def groupId(self) -> str:  # noqa: N802 - Qt API
        return WORKFLOW_GROUP_ID

    def icon(self):  # noqa: ANN201 - QIcon
        return icon("changelens.svg")

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802 - Qt API
        return WorkflowAlgorithm(self._path, self._name)

    def editable_copy(self) -> QgsProcessingModelAlgorithm:
        """A plain model with the same content and no file: saving it asks where to save."""
        copy = QgsProcessingModelAlgorithm()
        copy.loadVariant(self.toVariant())
        copy.setSourceFilePath("")
        return copy


def with_step_output_names(model: QgsProcessingModelAlgorithm) -> QgsProcessingModelAlgorithm:
    """A copy of ``model`` whose outputs are named ``<step>:<output>`` (``burn:severity``) on every QGIS.

    From QGIS 3.26 a model created in code is a "version 2" model that names each output after its
    description (``area_per_severity_class``); a ``.model3`` file without a version, and every model on
    older QGIS, uses the step names that the README documents. Models built by ``tools/make_workflows.py``
    and by the tests go through this, so their outputs have the same names on every version.
    """
    variant = model.toVariant()
    variant["internal_version"] = "Version1"  # ignored by QGIS before 3.26, where every model is version 1
    copy = QgsProcessingModelAlgorithm()
    if not copy.loadVariant(variant):
        raise ValueError(f"model '{model.name()}' could not be copied")
    copy.setSourceFilePath(model.sourceFilePath())
    return copy


def workflow_name(path: str) -> str:
    """The algorithm name of a workflow file: its stem, lower case, ``[a-z0-9_]`` only."""
    stem = os.path.splitext(os.path.basename(path))[0].lower()
    return re.sub(r"[^a-z0-9_]+", "_", stem).strip("_")


def load_workflows(
    folder: str = WORKFLOW_DIR, taken: set[str] | None = None
) -> tuple[list[WorkflowAlgorithm], list[str]]:
    """The workflows of ``folder`` (sorted by file name) and one message per file that could not be loaded."""
    taken = set(taken or ())
    workflows: list[WorkflowAlgorithm] = []
    problems: list[str] = []
    if not os.path.isdir(folder):
        return workflows, problems
    for filename in sorted(os.listdir(folder)):
        if not filename.endswith(".model3"):
            continue
        path = os.path.join(folder, filename)
        name = workflow_name(path)
        if not _ID.match(name) or name in taken:
            problems.append(f"Workflow '{filename}' skipped: its name '{name}' is not a free algorithm name.")
            continue
        try:
            workflows.append(WorkflowAlgorithm(path, name))
        except ValueError as exc:
            problems.append(f"Workflow '{filename}' skipped: {exc}.")
            continue
        taken.add(name)
    return workflows, problems
