"""Build the shipped workflows (``workflows/*.model3``) with the Processing model API.

Each workflow is a graphical model made only of ChangeLens and QGIS native algorithms, laid out
so that it reads left to right in the Model Designer. Run with QGIS's Python:

    .venv/bin/python tools/make_workflows.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_HASH_SEED", "0")  # before Qt loads: stable XML attribute order in the .model3 files

from qgis.core import (  # noqa: E402
    QgsProcessingModelAlgorithm,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from workflow_builder import ROOT, MissingAlgorithm, Workflow, default_of, output, param, start_qgis  # noqa: E402


def _number(name: str, label: str, default: float) -> QgsProcessingParameterNumber:
    """A decimal model input (>= 0). The plugin is importable once ``start_qgis`` has run."""
    from changelens.processing.compat import NUMBER_DOUBLE

    return QgsProcessingParameterNumber(name, label, NUMBER_DOUBLE, default, minValue=0.0)


def _radiometry() -> QgsProcessingParameterEnum:
    """The reflectance conversion of both dates (the algorithms' RADIOMETRY choices, automatic by default)."""
    from changelens.core.io.radiometry import RADIOMETRY_CHOICES

    return QgsProcessingParameterEnum(
        "radiometry", "Reflectance conversion", [label for _key, label in RADIOMETRY_CHOICES], defaultValue=0
    )


RADIOMETRY_HELP = (
    "How stored values become reflectance (0 = automatic: band and product metadata, or values that leave no "
    "doubt; the run stops and asks when they do). Default: 0."
)


def _mmu(default_m2: float) -> QgsProcessingParameterNumber:
    return _number("min_area_m2", "Minimum mapping unit (m²)", default_m2)


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
    flow.add_input(_radiometry(), RADIOMETRY_HELP)
    flow.add_step(
        "burn",
        "changelens:burnseverity",
        "Burn severity (dNBR)",
        1,
        1,
        {
            "PRE": param("pre"),
            "POST": param("post"),
            "MIN_AREA_M2": default_of("min_area_m2", 900.0),
            "RADIOMETRY": default_of("radiometry", 0),
        },
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
        _number("cell_size", "Grid cell size (map units of date 1)", 500.0),
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


def landslide_inventory() -> QgsProcessingModelAlgorithm:
    """Optical before/after + DEM -> new landslides >= MMU -> polygons -> one point per landslide -> totals."""
    flow = Workflow(
        "Landslide inventory (optical before/after + DEM)",
        "landslide",
        "Maps new landslides from an optical image before and one after the event (NDVI drop and brightening "
        "on slopes steeper than the minimum slope, from the DEM), keeps landslides at least as large as the "
        "minimum mapping unit, and writes the landslide raster, one polygon per landslide with its area, one "
        "point per landslide (its centre, with area_ha) for the inventory, the total (landslide_ha and count) "
        "and an HTML report.",
    )
    flow.add_input(QgsProcessingParameterRasterLayer("before", "Image before the event"), "Red and NIR bands.")
    flow.add_input(QgsProcessingParameterRasterLayer("after", "Image after the event"), "Red and NIR bands.")
    flow.add_input(QgsProcessingParameterRasterLayer("dem", "DEM"), "Elevation in metres, any CRS.")
    flow.add_input(_mmu(500.0), "Landslides smaller than this (m²) are dropped. Default: 500.")
    flow.add_input(_radiometry(), RADIOMETRY_HELP)
    mmu = default_of("min_area_m2", 500.0)
    flow.add_step(
        "slides",
        "changelens:landslide",
        "New landslides",
        1,
        1,
        {
            "BEFORE": param("before"),
            "AFTER": param("after"),
            "DEM": param("dem"),
            "MIN_AREA": mmu,
            "MIN_AREA_M2": mmu,
            "RADIOMETRY": default_of("radiometry", 0),
        },
        {
            "OUTPUT": ("landslides", "New landslides"),
            "OUTPUT_POLYGONS": ("polygons", "Landslide polygons (area_ha)"),
            "OUTPUT_STATS": ("areas", "Area per class"),
            "OUTPUT_REPORT": ("report", "Report (HTML)"),
        },
    )
    flow.add_step(
        "points",
        "native:centroids",
        "One point per landslide",
        2,
        0,
        {"INPUT": output("slides", "OUTPUT_POLYGONS"), "ALL_PARTS": False, "OUTPUT": "TEMPORARY_OUTPUT"},
        {"OUTPUT": ("inventory", "Landslide inventory points (area_ha)")},
    )
    _outline(flow, "slides", "\"class_name\" = 'New landslide'", 2, "landslide_ha", "outline", "All landslides")
    return flow.finish()


BUILDERS: dict[str, Callable[[], QgsProcessingModelAlgorithm]] = {
    "burn_severity_report": burn_severity_report,
    "flood_rapid_mapping": flood_rapid_mapping,
    "change_hotspots": change_hotspots,
    "landslide_inventory": landslide_inventory,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "workflows"), help="folder for the .model3 files")
    args = parser.parse_args()
    app = start_qgis()  # noqa: F841 - must outlive the models
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
