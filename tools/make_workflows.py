"""Build the shipped workflows (``workflows/*.model3``) with the Processing model API.

Each workflow is a graphical model made only of ChangeLens and QGIS native algorithms, laid out
so that it reads left to right in the Model Designer. Run with QGIS's Python:

    .venv/bin/python tools/make_workflows.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_HASH_SEED", "0")  # stable XML attribute order, so regenerated files diff cleanly

from qgis.core import (  # noqa: E402 - after the platform is set
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
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
        """The model, checked: every child's algorithm exists and its required values are set."""
        self.model.setParameterOrder(self.order)
        self.model.setHelpContent(self.help)
        self.model.updateDestinationParameters()
        ok, problems = self.model.validate()
        if not ok:
            raise MissingAlgorithm("; ".join(problems))
        return self.model


def _mmu(default_m2: float) -> QgsProcessingParameterNumber:
    return QgsProcessingParameterNumber(
        "min_area_m2", "Minimum mapping unit (m²)", QgsProcessingParameterNumber.Double, default_m2, minValue=0.0
    )


def _outline(flow: Workflow, source: str, expression: str, column: int, field: str, name: str, label: str) -> None:
    """Polygons matching ``expression`` -> one dissolved outline carrying their summed ``area_ha``."""
    flow.add_step(
        "select",
        "native:extractbyexpression",
        "Keep the mapped classes",
        column,
        2,
        {"INPUT": output(source, "OUTPUT_POLYGONS"), "EXPRESSION": expression, "OUTPUT": "TEMPORARY_OUTPUT"},
    )
    flow.add_step(
        "total",
        "native:aggregate",
        "Sum the areas",
        column + 1,
        2,
        {
            "INPUT": output("select", "OUTPUT"),
            "GROUP_BY": "'all'",
            "AGGREGATES": [
                {"aggregate": "sum", "delimiter": ",", "input": '"area_ha"', "length": 20, "name": field,
                 "precision": 4, "type": 6},
                {"aggregate": "count", "delimiter": ",", "input": '"class_id"', "length": 10, "name": "polygons",
                 "precision": 0, "type": 2},
            ],
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
    )  # fmt: skip
    flow.add_step(
        "outline",
        "native:dissolve",
        "Dissolve into one outline",
        column + 2,
        2,
        {"INPUT": output("total", "OUTPUT"), "FIELD": [], "OUTPUT": "TEMPORARY_OUTPUT"},
        {"OUTPUT": (name, label)},
    )


def burn_severity_report() -> QgsProcessingModelAlgorithm:
    """Sentinel-2 / Landsat pre/post -> dNBR classes -> polygons per class -> area table -> report -> perimeter."""
    flow = Workflow(
        "Burn severity report (pre/post fire)",
        "burn",
        "Maps burn severity (dNBR, USGS classes) from a pre-fire and a post-fire Sentinel-2 or Landsat 8/9 image, "
        "removes regions smaller than the minimum mapping unit, and writes the severity raster, one polygon per "
        "burned region with its class and area, the area table per class, an HTML report, and the burn perimeter "
        "(all burned classes dissolved, with the burned area in hectares).",
    )
    flow.add_input(QgsProcessingParameterRasterLayer("pre", "Pre-fire image"), "Image with NIR and SWIR2 bands.")
    flow.add_input(QgsProcessingParameterRasterLayer("post", "Post-fire image"), "Image with NIR and SWIR2 bands.")
    flow.add_input(_mmu(900.0), "Burned regions smaller than this (m²) merge into their neighbours. Default: 900.")
    flow.add_step(
        "burn",
        "changelens:burnseverity",
        "Burn severity (dNBR)",
        1,
        1,
        {"PRE": param("pre"), "POST": param("post"), "MIN_AREA_M2": default_of("min_area_m2", 900.0)},
        {
            "OUTPUT_SEVERITY": ("severity", "Burn severity classes"),
            "OUTPUT_DNBR": ("dnbr", "dNBR"),
            "OUTPUT_POLYGONS": ("polygons", "Burned regions (class, area_ha)"),
            "OUTPUT_STATS": ("areas", "Area per severity class"),
            "OUTPUT_REPORT": ("report", "Report (HTML)"),
        },
    )
    _outline(flow, "burn", '"class_id" >= 4', 2, "burned_ha", "perimeter", "Burn perimeter (burned_ha)")
    return flow.finish()


def flood_rapid_mapping() -> QgsProcessingModelAlgorithm:
    """Sentinel-1 before/after -> flood extent -> polygons >= MMU -> area table -> report -> flood outline."""
    flow = Workflow(
        "Flood rapid mapping (Sentinel-1 before/after)",
        "flood",
        "Maps the flood from a Sentinel-1 GRD image before and one after the event (log-ratio change with an "
        "automatic threshold, refined Lee speckle filter, permanent water kept apart, optional DEM slope mask), "
        "removes flooded regions smaller than the minimum mapping unit, and writes the flood extent raster, one "
        "polygon per flooded region with its area, the area table, an HTML report, and the flood outline (all "
        "flooded regions dissolved, with the flooded area in hectares).",
    )
    flow.add_input(
        QgsProcessingParameterRasterLayer("before", "Sentinel-1 before the flood"), "VV and/or VH, dB or linear."
    )
    flow.add_input(
        QgsProcessingParameterRasterLayer("after", "Sentinel-1 after the flood"), "VV and/or VH, dB or linear."
    )
    flow.add_input(
        QgsProcessingParameterRasterLayer("dem", "DEM (optional)", optional=True),
        "Elevation in metres; slopes steeper than 5 degrees are never flooded. Default: no slope mask.",
    )
    flow.add_input(_mmu(1000.0), "Flooded regions smaller than this (m²) are removed. Default: 1000.")
    flow.add_step(
        "flood",
        "changelens:sarflood",
        "Flood extent (Sentinel-1)",
        1,
        1,
        {
            "BEFORE": param("before"),
            "AFTER": param("after"),
            "DEM": param("dem"),
            "MIN_AREA_M2": default_of("min_area_m2", 1000.0),
        },
        {
            "OUTPUT": ("extent", "Flood extent"),
            "OUTPUT_POLYGONS": ("polygons", "Flooded regions (area_ha)"),
            "OUTPUT_MEASURE": ("measure", "Log-ratio (dB)"),
            "OUTPUT_STATS": ("areas", "Area per class"),
            "OUTPUT_REPORT": ("report", "Report (HTML)"),
        },
    )
    _outline(flow, "flood", "\"class_name\" = 'Flooded'", 2, "flooded_ha", "outline", "Flood outline (flooded_ha)")
    return flow.finish()


def change_hotspots() -> QgsProcessingModelAlgorithm:
    """Two dates -> change map -> polygons -> changed hectares per grid cell (hotspots)."""
    flow = Workflow(
        "Change hotspots (two dates, grid summary)",
        "change",
        "Maps change between two images of the same place (change vector analysis with an automatic Otsu "
        "threshold), removes changed regions smaller than the minimum mapping unit, and sums the changed area "
        "in a regular grid over the first image: each cell gets changed_ha (hectares of change whose region "
        "centre falls in the cell) and changed_pct (percent of the cell). Cells without change are dropped, so "
        "the hotspots output lists where change concentrates. Also writes the change raster, the changed "
        "regions and an HTML report.",
    )
    flow.add_input(
        QgsProcessingParameterRasterLayer("date1", "Image, date 1"), "Any number of bands; its grid is the output grid."
    )
    flow.add_input(QgsProcessingParameterRasterLayer("date2", "Image, date 2"), "Same bands as date 1, any grid.")
    flow.add_input(
        QgsProcessingParameterNumber(
            "cell_size",
            "Grid cell size (map units of date 1)",
            QgsProcessingParameterNumber.Double,
            500.0,
            minValue=0.0,
        ),
        "Width and height of a grid cell in the units of the first image's CRS (metres for UTM). Default: 500.",
    )
    flow.add_input(_mmu(500.0), "Changed regions smaller than this (m²) are removed. Default: 500.")
    flow.add_step(
        "change",
        "changelens:cva",
        "Change detection (CVA)",
        1,
        1,
        {"DATE1": param("date1"), "DATE2": param("date2"), "MIN_AREA_M2": default_of("min_area_m2", 500.0)},
        {
            "OUTPUT": ("change", "Change map"),
            "OUTPUT_POLYGONS": ("polygons", "Changed regions (area_ha)"),
            "OUTPUT_STATS": ("areas", "Area per class"),
            "OUTPUT_REPORT": ("report", "Report (HTML)"),
        },
    )
    flow.add_step(
        "centres",
        "native:centroids",
        "Region centres",
        2,
        2,
        {"INPUT": output("change", "OUTPUT_POLYGONS"), "ALL_PARTS": False, "OUTPUT": "TEMPORARY_OUTPUT"},
    )
    cell = default_of("cell_size", 500.0)
    flow.add_step(
        "grid",
        "native:creategrid",
        "Grid over date 1",
        2,
        0,
        {
            "TYPE": 2,
            "EXTENT": output("change", "OUTPUT"),
            "HSPACING": cell,
            "VSPACING": cell,
            "HOVERLAY": 0.0,
            "VOVERLAY": 0.0,
            "CRS": output("change", "OUTPUT"),
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
    )
    flow.add_step(
        "sum",
        "native:countpointsinpolygon",
        "Changed hectares per cell",
        3,
        1,
        {
            "POLYGONS": output("grid", "OUTPUT"),
            "POINTS": output("centres", "OUTPUT"),
            "WEIGHT": "area_ha",
            "FIELD": "changed_ha",
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
    )
    flow.add_step(
        "percent",
        "native:fieldcalculator",
        "Percent of the cell",
        4,
        1,
        {
            "INPUT": output("sum", "OUTPUT"),
            "FIELD_NAME": "changed_pct",
            "FIELD_TYPE": 0,
            "FIELD_LENGTH": 10,
            "FIELD_PRECISION": 3,
            "FORMULA": '100 * "changed_ha" / ($area / 10000)',
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
    )
    flow.add_step(
        "hotspots",
        "native:extractbyexpression",
        "Cells with change",
        5,
        1,
        {"INPUT": output("percent", "OUTPUT"), "EXPRESSION": '"changed_ha" > 0', "OUTPUT": "TEMPORARY_OUTPUT"},
        {"OUTPUT": ("cells", "Change hotspots (changed_ha, changed_pct per cell)")},
    )
    return flow.finish()


BUILDERS: dict[str, Callable[[], QgsProcessingModelAlgorithm]] = {
    "burn_severity_report": burn_severity_report,
    "flood_rapid_mapping": flood_rapid_mapping,
    "change_hotspots": change_hotspots,
}


def _start_qgis() -> QgsApplication:
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    link_dir = Path(tempfile.mkdtemp(prefix="changelens_"))
    (link_dir / "changelens").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(link_dir))
    from changelens.plugin import ChangeLensPlugin

    plugin = ChangeLensPlugin(None)
    plugin.initProcessing()
    app.changelens_plugin = plugin  # type: ignore[attr-defined] - keep the provider alive
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "workflows"), help="folder for the .model3 files")
    args = parser.parse_args()
    app = _start_qgis()  # noqa: F841 - must outlive the models
    os.makedirs(args.out, exist_ok=True)
    skipped = []
    for name, build in BUILDERS.items():
        try:
            model = build()
        except MissingAlgorithm as exc:
            skipped.append(f"{name}: {exc}")
            continue
        path = os.path.join(args.out, f"{name}.model3")
        if not model.toFile(path):
            raise SystemExit(f"cannot write {path}")
        print(f"wrote {path}")  # noqa: T201 - command-line tool
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)  # noqa: T201
    return 1 if skipped else 0


if __name__ == "__main__":
    raise SystemExit(main())
