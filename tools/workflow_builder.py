"""Building blocks for the shipped workflows: model inputs, steps and outputs laid out on a grid.

Used by ``tools/make_workflows.py``; needs QGIS's Python (PyQGIS) and the plugin importable.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_HASH_SEED", "0")  # stable XML attribute order, so regenerated files diff cleanly

from qgis.core import (  # noqa: E402 - after the environment is set
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterDefinition,
)
from qgis.PyQt.QtCore import QPointF  # noqa: E402

Source = QgsProcessingModelChildParameterSource
COLUMN_PX, ROW_PX = 260.0, 110.0
OPTIONAL_OUTPUTS = ("areas", "report", "measure")


def param(name: str) -> Source:
    """A child value taken from a model input."""
    return Source.fromModelParameter(name)


def output(child_id: str, name: str) -> Source:
    """A child value taken from an earlier child's output."""
    return Source.fromChildOutput(child_id, name)


def default_of(name: str, default: float) -> Source:
    """A model input with its default also when a caller leaves it out (QGIS passes nothing then)."""
    return Source.fromExpression(f"coalesce(@{name}, {default!r})")


def static(value: Any) -> Source:
    """A fixed child value."""
    return Source.fromStaticValue(value)


class MissingAlgorithm(Exception):
    """A step's algorithm (or one of its parameters) does not exist in this build of ChangeLens."""


class Workflow:
    """A model under construction: inputs, children and outputs placed on a grid."""

    def __init__(self, name: str, description: str, help_text: str) -> None:
        self.model = QgsProcessingModelAlgorithm(name, "Workflows", "workflows")
        self.help = {"ALG_DESC": help_text, "ALG_CREATOR": "ChangeLens", "ALG_VERSION": "1"}
        self.description = description
        self.order: list[str] = []

    def add_input(self, definition: QgsProcessingParameterDefinition, help_text: str) -> None:
        """A model input, listed in the order added."""
        definition.setHelp(help_text)
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(120.0, 80.0 + ROW_PX * len(self.order)))
        component.setDescription(definition.description())
        self.model.addModelParameter(definition, component)
        self.help[definition.name()] = help_text
        self.order.append(definition.name())

    def add_step(
        self,
        child_id: str,
        algorithm_id: str,
        description: str,
        column: int,
        row: int,
        values: dict[str, Source | Any],
        outputs: dict[str, tuple[str, str]] | None = None,
    ) -> str:
        """A child algorithm; ``outputs`` maps its output name to (model output name, description)."""
        child = QgsProcessingModelChildAlgorithm(algorithm_id)
        child.setChildId(child_id)
        child.setDescription(description)
        child.setPosition(QPointF(120.0 + COLUMN_PX * column, 80.0 + ROW_PX * row))
        algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
        if algorithm is None:
            raise MissingAlgorithm(f"{algorithm_id} is not available")
        known = {d.name() for d in algorithm.parameterDefinitions()} | {o.name() for o in algorithm.outputDefinitions()}
        unknown = sorted((set(values) | set(outputs or {})) - known)
        if unknown:
            raise MissingAlgorithm(f"{algorithm_id} has no {', '.join(unknown)}")
        for definition in algorithm.parameterDefinitions():  # defaults written out, as the Model Designer does
            if definition.name() not in values and not definition.isDestination():
                if definition.defaultValue() is not None:
                    values = {**values, definition.name(): definition.defaultValue()}
        for name, value in values.items():
            child.addParameterSources(name, [value if isinstance(value, Source) else static(value)])
        model_outputs = {}
        for index, (child_output, (name, label)) in enumerate((outputs or {}).items()):
            out = QgsProcessingModelOutput(name, label)
            out.setChildId(child_id)
            out.setChildOutputName(child_output)
            # A mandatory output is always produced (a temporary file when the caller gives none): later
            # steps may read it. Optional ones are skipped when not asked for.
            out.setMandatory(name not in OPTIONAL_OUTPUTS)
            out.setPosition(QPointF(120.0 + COLUMN_PX * column + 60.0, 80.0 + ROW_PX * row + 60.0 + 30.0 * index))
            model_outputs[name] = out
        child.setModelOutputs(model_outputs)
        self.model.addChildAlgorithm(child)
        return child_id

    def finish(self) -> QgsProcessingModelAlgorithm:
        """The model, checked, with outputs named ``<step>:<output>`` on every QGIS version (as documented)."""
        from changelens.processing.workflows import with_step_output_names

        self.model.setParameterOrder(self.order)
        self.model.setHelpContent(self.help)
        model = with_step_output_names(self.model)
        ok, problems = model.validate()
        if not ok:
            raise MissingAlgorithm("; ".join(problems))
        return model


def start_qgis() -> QgsApplication:
    """QGIS headless with Processing (native algorithms) and the ChangeLens provider from this checkout."""
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    link_dir = Path(tempfile.mkdtemp(prefix="changelens_"))  # the checkout, importable as "changelens"
    atexit.register(shutil.rmtree, link_dir, ignore_errors=True)
    (link_dir / "changelens").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(link_dir))
    from changelens.plugin import ChangeLensPlugin

    plugin = ChangeLensPlugin(None)
    plugin.initProcessing()
    app.changelens_plugin = plugin  # type: ignore[attr-defined] - keep the provider alive
    return app
