"""Workflows (.model3) as ChangeLens algorithms, chaining in the modeler, and the editor action."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from changelens.processing.workflows import WORKFLOW_GROUP, WorkflowAlgorithm, load_workflows, with_step_output_names
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from rasters import read, write_raster


def _burn_pair(tmp_path, burned_rows: int = 3) -> tuple[str, str]:  # noqa: ANN001
    pre = np.stack([np.full((6, 8), 4000, np.float32), np.full((6, 8), 900, np.float32)])  # < 1000 DN: no offset
    post = pre.copy()
    post[0, :burned_rows], post[1, :burned_rows] = 1500, 2500
    return (
        write_raster(tmp_path / "pre.tif", pre, descriptions=["B8", "B12"]),
        write_raster(tmp_path / "post.tif", post, descriptions=["B8", "B12"]),
    )


def _child(
    alg_id: str, child_id: str, sources: dict[str, QgsProcessingModelChildParameterSource]
) -> QgsProcessingModelChildAlgorithm:
    child = QgsProcessingModelChildAlgorithm(alg_id)
    child.setChildId(child_id)
    child.setDescription(child_id)
    for name, source in sources.items():
        child.addParameterSources(name, [source])
    # Like the Model Designer, write every other parameter's default into the child.
    for definition in QgsApplication.processingRegistry().algorithmById(alg_id).parameterDefinitions():
        if (
            definition.name() not in sources
            and not definition.isDestination()
            and definition.defaultValue() is not None
        ):
            child.addParameterSources(
                definition.name(), [QgsProcessingModelChildParameterSource.fromStaticValue(definition.defaultValue())]
            )
    return child


def _output(child: QgsProcessingModelChildAlgorithm, name: str, child_output: str) -> None:
    output = QgsProcessingModelOutput(name, name)
    output.setChildId(child.childId())
    output.setChildOutputName(child_output)
    child.setModelOutputs({**child.modelOutputs(), name: output})


def _burn_table_model() -> QgsProcessingModelAlgorithm:
    """Burn severity, then QGIS's unique-values report on the classes: one ChangeLens and one native step."""
    model = QgsProcessingModelAlgorithm("Severity table", WORKFLOW_GROUP, "workflows")
    for name, label in (("pre", "Pre-fire image"), ("post", "Post-fire image")):
        model.addModelParameter(QgsProcessingParameterRasterLayer(name, label), QgsProcessingModelParameter(name))
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    burn = _child("changelens:burnseverity", "burn", {"PRE": param("pre"), "POST": param("post")})
    _output(burn, "severity", "OUTPUT_SEVERITY")
    table = _child(
        "native:rasterlayeruniquevaluesreport",
        "table",
        {"INPUT": QgsProcessingModelChildParameterSource.fromChildOutput("burn", "OUTPUT_SEVERITY")},
    )
    table.addParameterSources("BAND", [QgsProcessingModelChildParameterSource.fromStaticValue(1)])
    _output(table, "classes", "OUTPUT_TABLE")
    model.addChildAlgorithm(burn)
    model.addChildAlgorithm(table)
    return with_step_output_names(model)


def test_workflow_files_become_provider_algorithms(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    folder = tmp_path / "workflows"
    folder.mkdir()
    assert _burn_table_model().toFile(str(folder / "Severity Table.model3"))
    (folder / "broken.model3").write_text("<not a model")
    _burn_table_model().toFile(str(folder / "burnseverity.model3"))  # clashes with an algorithm name
    workflows, problems = load_workflows(str(folder), {"burnseverity"})
    assert [w.name() for w in workflows] == ["severity_table"]
    assert len(problems) == 2 and "broken.model3" in problems[0] and "not a free algorithm name" in problems[1]
    workflow = workflows[0]
    workflow.setProvider(provider)
    assert workflow.id() == "changelens:severity_table" and workflow.displayName() == "Severity table"
    assert workflow.group() == "Workflows" and workflow.sourceFilePath().endswith("Severity Table.model3")
    clone = workflow.create()
    assert isinstance(clone, WorkflowAlgorithm) and clone.id() == "changelens:severity_table"
    assert sorted(d.name() for d in clone.destinationParameterDefinitions()) == ["burn:severity", "table:classes"]
    pre, post = _burn_pair(tmp_path)
    result = processing.run(
        clone,
        {
            "pre": pre,
            "post": post,
            "burn:severity": str(tmp_path / "sev.tif"),
            "table:classes": str(tmp_path / "classes.csv"),
        },
    )
    assert np.bincount(read(result["burn:severity"]).ravel(), minlength=8)[7] == 24
    with open(tmp_path / "classes.csv", encoding="utf-8") as handle:
        table = {float(r["value"]): (int(r["count"]), float(r["m2"])) for r in csv.DictReader(handle)}
    assert table == {3.0: (24, 2400.0), 7.0: (24, 2400.0)}


def test_editable_copy_has_no_file(provider, tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "w"
    folder.mkdir()
    _burn_table_model().toFile(str(folder / "table.model3"))
    workflow = load_workflows(str(folder))[0][0]
    copy = workflow.editable_copy()
    assert copy.sourceFilePath() == "" and sorted(copy.childAlgorithms()) == ["burn", "table"]
    assert type(copy) is QgsProcessingModelAlgorithm


def test_edit_action_opens_the_model_designer(provider, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import processing.modeler.ModelerDialog as designer
    from changelens.ui.workflow_actions import EditWorkflowAction

    monkeypatch.setattr(designer, "iface", None)  # no main window headless (pytest-qgis's stub is partial)

    folder = tmp_path / "w"
    folder.mkdir()
    _burn_table_model().toFile(str(folder / "table.model3"))
    workflow = load_workflows(str(folder))[0][0]
    action = EditWorkflowAction()
    action.setData(QgsApplication.processingRegistry().algorithmById("changelens:burnseverity"), None)
    assert not action.isEnabled()
    action.setData(workflow, None)
    assert action.isEnabled()
    dialog = action.execute()
    try:
        assert sorted(dialog.model().childAlgorithms()) == ["burn", "table"]
        assert dialog.model().sourceFilePath() == ""
    finally:
        dialog.setDirty(False)
        dialog.close()
    shipped = QgsApplication.processingRegistry().algorithmById("changelens:flood_rapid_mapping")
    action.setData(shipped, None)
    dialog = action.execute()
    try:
        assert sorted(dialog.model().childAlgorithms()) == ["flood", "outline", "select", "total"]
        assert dialog.model().parameterDefinition("min_area_m2").defaultValue() == 1000.0
    finally:
        dialog.setDirty(False)
        dialog.close()


def test_every_algorithm_is_modeler_ready(provider) -> None:  # noqa: ANN001
    """Help on every parameter (defaults, values, files); outputs named OUTPUT[_*]; enum values pinned."""
    algorithms = [a for a in provider.algorithms() if not isinstance(a, QgsProcessingModelAlgorithm)]
    assert {"burnseverity", "manypairs"} <= {a.name() for a in algorithms}
    for alg in algorithms:
        for definition in alg.parameterDefinitions():
            where = f"{alg.id()} {definition.name()}"
            assert definition.help(), where
            if isinstance(definition, (QgsProcessingParameterEnum, QgsProcessingParameterNumber)):
                assert "Default: " in definition.help(), where
        if alg.name() != "manypairs":
            names = [d.name() for d in alg.destinationParameterDefinitions()]
            assert all(n == "OUTPUT" or n.startswith("OUTPUT_") for n in names), alg.id()
    burn = provider.algorithm("burnseverity")
    enums = {d.name(): d.options() for d in burn.parameterDefinitions() if isinstance(d, QgsProcessingParameterEnum)}
    # Enum values are indexes stored in models and scripts: these lists may only grow at the end.
    assert enums["RESAMPLING"] == ["nearest", "bilinear", "cubic", "average"]
    assert [o.split(" ")[0] for o in enums["RADIOMETRY"]] == [
        "Automatic",
        "Sentinel-2",
        "Sentinel-2",
        "Landsat",
        "Values",
        "Custom",
    ]
    assert "3 = average. Default: 1 (bilinear)." in burn.parameterDefinition("RESAMPLING").help()


@pytest.mark.parametrize("route", ["processing", "reloaded"])
def test_model_context_runs(provider, tmp_path, route) -> None:  # noqa: ANN001
    """A model saved and reloaded from .model3 runs with outputs routed through the context."""
    import processing

    model = _burn_table_model()
    if route == "reloaded":
        path = str(tmp_path / "m.model3")
        assert model.toFile(path)
        model = QgsProcessingModelAlgorithm()
        assert model.fromFile(path)
    pre, post = _burn_pair(tmp_path, burned_rows=2)
    context = QgsProcessingContext()
    result = processing.run(
        model,
        {
            "pre": pre,
            "post": post,
            "burn:severity": QgsProcessingOutputLayerDefinition(str(tmp_path / "sev.tif")),
            "table:classes": "TEMPORARY_OUTPUT",
        },
        context=context,
        feedback=QgsProcessingFeedback(),
    )
    assert np.bincount(read(tmp_path / "sev.tif").ravel(), minlength=8)[7] == 16
    assert result["CHILD_RESULTS"]["burn"]["BURNED_AREA_HA"] == pytest.approx(0.16)


def _assessment_model() -> QgsProcessingModelAlgorithm:
    """Initial and extended burn assessments, then change vectors on their two dNBR rasters.

    Delayed effects (trees that die in the year after the fire) show as dNBR change between the
    initial assessment (weeks after) and the extended one (a year after): ChangeLens output chained
    into a ChangeLens input.
    """
    model = QgsProcessingModelAlgorithm("Delayed burn effects", "Tests", "tests")
    for name, label in (("pre", "Pre-fire"), ("initial", "Weeks after"), ("extended", "A year after")):
        model.addModelParameter(QgsProcessingParameterRasterLayer(name, label), QgsProcessingModelParameter(name))
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    from_child = QgsProcessingModelChildParameterSource.fromChildOutput
    first = _child("changelens:burnseverity", "first", {"PRE": param("pre"), "POST": param("initial")})
    second = _child("changelens:burnseverity", "second", {"PRE": param("pre"), "POST": param("extended")})
    delayed = _child(
        "changelens:cva",
        "delayed",
        {
            "DATE1": from_child("first", "OUTPUT_DNBR"),
            "DATE2": from_child("second", "OUTPUT_DNBR"),
            "NORMALISATION": QgsProcessingModelChildParameterSource.fromStaticValue(2),  # raw dNBR differences
        },
    )
    _output(delayed, "change", "OUTPUT")
    for child in (first, second, delayed):
        model.addChildAlgorithm(child)
    return with_step_output_names(model)


def test_model_chaining_changelens_algorithms_saved_reloaded_and_run(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    rng = np.random.default_rng(3)
    pre = np.stack([np.full((40, 40), 4000.0), np.full((40, 40), 900.0)]) + rng.normal(0, 30, (2, 40, 40))
    initial, extended = pre.copy(), pre.copy()
    initial[:, :20] = extended[:, :20] = np.array([1500.0, 2500.0])[:, None, None]  # burned at once
    extended[:, 25:35, 5:35] = np.array([1500.0, 2500.0])[:, None, None]  # died within the year
    paths = {
        name: write_raster(tmp_path / f"{name}.tif", data.astype(np.float32), descriptions=["B8", "B12"])
        for name, data in (("pre", pre), ("initial", initial), ("extended", extended))
    }
    path = str(tmp_path / "delayed.model3")
    assert _assessment_model().toFile(path)
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(path) and model.validate()[0]
    assert [c.algorithmId() for c in sorted(model.childAlgorithms().values(), key=lambda c: c.childId())] == [
        "changelens:cva",
        "changelens:burnseverity",
        "changelens:burnseverity",
    ]
    result = processing.run(model, {**paths, "delayed:change": str(tmp_path / "delayed.tif")})
    change = read(result["delayed:change"]) == 2
    assert change[25:35, 5:35].mean() > 0.95  # the delayed mortality
    assert change[:20].mean() < 0.02 and change[36:].mean() < 0.02  # burned at once, or never
    assert result["CHILD_RESULTS"]["first"]["BURNED_AREA_HA"] == pytest.approx(800 * 100 / 1e4, rel=0.01)
