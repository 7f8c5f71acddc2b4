"""One pair of a many-pairs run: which algorithm, which inputs and outputs, its feedback and its class areas."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.batch import ScenePair
from ..core.batch_summary import SUMMARY_FIELDS, class_areas, is_classified
from ..core.names import safe_name
from . import compat
from .compat import FLAG_OPTIONAL
from .lifecycle import disconnect
from .outputs import CLASS_AREAS

CHILD_RESULTS = "CHILD_RESULTS"  # a model's results of each of its steps
_FIELD_TYPES = {
    "class_id": compat.FIELD_INT,
    "pixels": compat.FIELD_LONGLONG,
    "area_ha": compat.FIELD_DOUBLE,
    "percent": compat.FIELD_DOUBLE,
    "seconds": compat.FIELD_DOUBLE,
}


class PairFeedback(QgsProcessingFeedback):
    """Feedback for one pair's child run: progress and log go to the batch, errors are held back.

    A failed pair is reported by the batch as one clear line; the child's own error lines
    are only replayed (as warnings) when the pair nevertheless succeeded.
    """

    def __init__(self, parent: QgsProcessingFeedback) -> None:
        super().__init__()
        self.parent_feedback = parent
        self.errors: list[str] = []
        self.progressChanged.connect(parent.setProgress)
        parent.canceled.connect(self.cancel)
        if parent.isCanceled():
            self.cancel()

    def close(self) -> None:
        """Stop listening to the batch's cancel signal (the batch's feedback may already be gone)."""
        disconnect(self.parent_feedback, "canceled", self.cancel)

    def setProgressText(self, text: str) -> None:  # noqa: N802 - Qt API
        self.parent_feedback.setProgressText(text)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803 - Qt API
        self.errors.append(error)

    def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt API
        self.parent_feedback.pushInfo(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 - Qt API
        self.parent_feedback.pushWarning(warning)

    def pushDebugInfo(self, info: str) -> None:  # noqa: N802 - Qt API
        self.parent_feedback.pushDebugInfo(info)

    def pushCommandInfo(self, info: str) -> None:  # noqa: N802 - Qt API
        self.parent_feedback.pushCommandInfo(info)

    def pushConsoleInfo(self, info: str) -> None:  # noqa: N802 - Qt API
        self.parent_feedback.pushConsoleInfo(info)


def summary_sink(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext
) -> tuple[Any, str | None, QgsFields]:
    """The summary table's sink (None when skipped), its destination and fields; written in UTF-8.

    Pair names and paths may be in any script: the table is UTF-8 whatever the Processing default
    encoding ("System" is cp1252 on a Western Windows, where Greek names would become "?"), unless
    the output itself names another encoding.
    """
    fields = QgsFields()
    for key in SUMMARY_FIELDS:
        fields.append(compat.make_field(key, _FIELD_TYPES.get(key, compat.FIELD_STRING)))
    value = parameters.get(name)
    if not value:
        return None, None, fields
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = QgsProcessingOutputLayerDefinition(value)
        if str(value.createOptions.get("fileEncoding") or "System").lower() == "system":
            value.createOptions = {**value.createOptions, "fileEncoding": "UTF-8"}
        parameters = {**parameters, name: value}
    sink, dest = alg.parameterAsSink(
        parameters,
        name,
        context,
        fields,
        compat.WKB_NO_GEOMETRY,
        QgsCoordinateReferenceSystem(),
        createOptions={"fileEncoding": "UTF-8"},
    )
    if sink is None:
        raise QgsProcessingException(alg.invalidSinkError(parameters, name))
    return sink, dest, fields


def resolve_algorithm(text: str, runner_id: str) -> QgsProcessingAlgorithm:
    """A new instance of the algorithm named by an id (``changelens:`` may be left out) or a .model3 path."""
    text = text.strip()
    if text.lower().endswith(".model3"):
        model = QgsProcessingModelAlgorithm()
        if not os.path.isfile(text) or not model.fromFile(text):
            raise QgsProcessingException(f"The workflow file '{text}' does not exist or is not a valid model.")
        return model
    alg_id = text if ":" in text else f"changelens:{text}"
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    if alg is None:
        provider = QgsApplication.processingRegistry().providerById("changelens")
        known = ", ".join(sorted(a.id() for a in provider.algorithms())) if provider else ""
        raise QgsProcessingException(f"There is no algorithm '{alg_id}'; ChangeLens offers: {known}.")
    if alg.id() == runner_id:
        raise QgsProcessingException("The many-pairs run cannot run itself: pick a mapping algorithm.")
    return alg


def role_of(parameter_name: str) -> str | None:
    """``PRE``, ``before_image``, ``DATE1`` -> "before"; ``POST``, ``after``, ``DATE2`` -> "after"."""
    tokens = set(re.split(r"[^a-z0-9]+", parameter_name.lower()))
    if tokens & {"pre", "before", "date1", "t1"}:
        return "before"
    if tokens & {"post", "after", "date2", "t2"}:
        return "after"
    return None


def input_names(alg: QgsProcessingAlgorithm, before: str, after: str) -> tuple[str, str]:
    """The parameters that receive the before and after images: as named, else found by name, else by order."""
    names = [d.name() for d in alg.parameterDefinitions()]
    rasters = [d.name() for d in alg.parameterDefinitions() if isinstance(d, QgsProcessingParameterRasterLayer)]
    by_role = {role: [r for r in rasters if role_of(r) == role] for role in ("before", "after")}
    if len(by_role["before"]) == 1 and len(by_role["after"]) == 1:
        rasters = by_role["before"] + by_role["after"]
    chosen = []
    for name, position in ((before, 0), (after, 1)):
        if name and name not in names:
            raise QgsProcessingException(
                f"'{alg.id()}' has no parameter '{name}'; its parameters are: {', '.join(names)}."
            )
        if not name:
            if len(rasters) < 2:
                raise QgsProcessingException(
                    f"'{alg.id()}' does not take two raster inputs (before and after): pick another algorithm "
                    "or name the parameters that receive the images."
                )
            name = rasters[position]
        chosen.append(name)
    if chosen[0] == chosen[1]:
        raise QgsProcessingException("The before and after images must go to two different parameters.")
    return chosen[0], chosen[1]


def output_file_name(definition: QgsProcessingParameterDefinition) -> str:
    """``OUTPUT_SEVERITY`` -> ``severity.tif``; model outputs ``flood:extent`` -> ``extent.tif``.

    Letters of any script are kept (``flood:Πλημμύρα`` -> ``πλημμύρα.tif``); spaces become ``_``.
    """
    name = definition.name().split(":")[-1]
    if name.upper().startswith("OUTPUT_") and len(name) > 7:
        name = name[7:]
    stem = safe_name(name, fallback="output").replace(" ", "_").lower()
    if isinstance(definition, QgsProcessingParameterFolderDestination):
        return stem
    extension = definition.defaultFileExtension() if hasattr(definition, "defaultFileExtension") else ""
    return f"{stem}.{extension}" if extension else stem


def run_parameters(
    alg: QgsProcessingAlgorithm, extra: dict[str, Any], before: str, after: str, pair: ScenePair, folder: str
) -> dict[str, Any]:
    """The child's parameters for one pair: the extra values, the pair's images, outputs inside ``folder``.

    Outputs are written under their own names; one named in ``extra`` keeps that file name, one set to
    null/false/"" there is skipped, and optional outputs that are off by default stay off.
    """
    params = dict(extra)
    params[before], params[after] = pair.before, pair.after
    for definition in alg.destinationParameterDefinitions():
        name = definition.name()
        if name in extra:
            value = extra[name]
            if value in (None, "", False):
                params[name] = None
                continue
            file_name = os.path.basename(str(value)) if isinstance(value, str) else output_file_name(definition)
            if file_name == QgsProcessing.TEMPORARY_OUTPUT:
                file_name = output_file_name(definition)
        else:
            optional = bool(definition.flags() & FLAG_OPTIONAL)
            if optional and not definition.createByDefault():
                continue
            file_name = output_file_name(definition)
        params[name] = os.path.join(folder, file_name)
    return params


def run_pair(
    alg: QgsProcessingAlgorithm, params: dict[str, Any], context: QgsProcessingContext, feedback: PairFeedback
) -> dict[str, Any]:
    """Run the child algorithm (as a child: nothing is loaded into the project).

    Each pair gets its own context (with the batch's settings: project, ellipsoid, transforms), so
    the layers a run opens are released with it instead of piling up over hundreds of pairs.
    """
    import processing

    pair_context = QgsProcessingContext()
    pair_context.copyThreadSafeSettings(context)
    pair_context.setFeedback(feedback)
    results = processing.run(alg, params, feedback=feedback, context=pair_context, is_child_algorithm=True)
    if results is None:
        raise QgsProcessingException("the algorithm returned no results")
    return results


def failure_message(exc: BaseException, errors: list[str]) -> str:
    """One line saying why a pair failed: the exception, plus the step's own reason when it only says which step."""

    def clean(text: str) -> str:
        return " ".join(text.replace("Unable to execute algorithm", "").split())

    message = clean(str(exc)) or type(exc).__name__
    reasons = []
    for error in errors:
        text = clean(error)
        if text and text not in message and text not in reasons and not text.startswith("Error encountered while"):
            reasons.append(text)
    return f"{message}: {' '.join(reasons[:2])}" if reasons else message


def _rows_from_json(value: Any) -> list[dict[str, object]] | None:
    if isinstance(value, str) and value.strip():
        try:
            rows = json.loads(value)
        except json.JSONDecodeError:
            return None
        return rows if isinstance(rows, list) else None
    return None


def class_rows(alg: QgsProcessingAlgorithm, results: dict[str, Any]) -> list[dict[str, object]]:
    """Class areas of a finished run: the algorithm's CLASS_AREAS result (or that of a workflow step),
    else computed from its first classified raster output."""
    children = results.get(CHILD_RESULTS) if isinstance(results.get(CHILD_RESULTS), dict) else {}
    for candidate in [results] + [r for r in children.values() if isinstance(r, dict)]:
        rows = _rows_from_json(candidate.get(CLASS_AREAS))
        if rows is not None:
            return rows
    paths = [
        results.get(o.name()) for o in alg.outputDefinitions() if isinstance(o, QgsProcessingOutputRasterLayer)
    ] + [v for r in children.values() if isinstance(r, dict) for v in r.values()]
    for path in paths:
        if isinstance(path, str) and path.lower().endswith((".tif", ".tiff")) and is_classified(path):
            return class_areas(path)
    return []
