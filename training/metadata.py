"""The ONNX metadata of every bundled model, built in one place from the task definition.

The document follows the plugin's schema (``models/README.md``) and is written and validated by
the plugin's own ``core.models.meta.write_metadata``.
"""

from __future__ import annotations

import pathlib
import sys
from typing import Any

import tasks

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from core.models.meta import write_metadata  # noqa: E402  (the repository's core, QGIS-free)

CLASSES = {
    "burned_s2": [("unburned", "#d9d9d9"), ("burned", "#d7301f")],
    "burned_s2_post": [("unburned", "#d9d9d9"), ("burned", "#d7301f")],
    "flood_s1": [("dry", "#d9d9d9"), ("permanent water", "#a6cee3"), ("flooded", "#1f4e9c")],
    "flood_s1_after": [("dry", "#d9d9d9"), ("water", "#2b83ba")],
    "change_s2": [("no change", "#d9d9d9"), ("change", "#e31a1c")],
    "landslide_s2": [("no landslide", "#d9d9d9"), ("new landslide", "#c2410c")],
}
TASK_KIND = {
    "burned_s2_post": "burned_area",
    "burned_s2": "burned_area",
    "flood_s1": "flood",
    "flood_s1_after": "flood",
    "change_s2": "change_detection",
    "landslide_s2": "landslide",
}
TITLES = {
    "burned_s2_post": "Burned area, one post-fire Sentinel-2 image (NIR + SWIR2)",
    "burned_s2": "Burned area, Sentinel-2 pre/post (NIR + SWIR2)",
    "flood_s1": "Flood extent, Sentinel-1 before/after (one polarisation)",
    "flood_s1_after": "Open water, one Sentinel-1 image (one polarisation)",
    "change_s2": "Land-cover and built-up change, Sentinel-2 two dates",
    "landslide_s2": "New landslides, Sentinel-2 before/after plus slope from a DEM",
}
DESCRIPTIONS = {
    "burned_s2_post": (
        "Burned area from a post-fire Sentinel-2 image only (when no pre-fire image is usable): NIR (B08, "
        "or map B8A to it) and SWIR2 (B12), 20 m."
    ),
    "burned_s2": (
        "Burned area from pre- and post-fire Sentinel-2 L2A/L1C: NIR (B08; map B8A to it if that is what "
        "you have) and SWIR2 (B12), 20 m."
    ),
    "flood_s1": (
        "Dry land, permanent water (dark before and after) and flooded land (new water) from a Sentinel-1 "
        "image before and one after a flood; one polarisation (VV, or map VH to it). Accepts dB, linear or "
        "contrast-stretched 8-bit images: every image is standardised by its own mean and std."
    ),
    "flood_s1_after": (
        "Open water (flood plus permanent water) in one Sentinel-1 image; one polarisation (VV, or map VH to "
        "it). Accepts dB or contrast-stretched 8-bit images (per-scene standardisation)."
    ),
    "change_s2": ("Change between two Sentinel-2 dates (trained on OSCD urban change, L1C): B02 B03 B04 B08 B11 B12."),
    "landslide_s2": (
        "Vegetation stripped to bare soil or rock on slopes, from Sentinel-2 L2A/L1C before and after images "
        "(B02 B03 B04 B08 B11 B12, 10 m) and a DEM (slope computed by ChangeLens). Trained on simulation only."
    ),
}
SIM_SAR = (
    "Simulation only: gamma speckle (3.5-5.5 looks) SAR rendered from OSCD (CC-BY-4.0) and eo-learn (MIT) "
    "Sentinel-2 backgrounds"
)
TRAINING_DATA = {
    "burned_s2_post": (
        "burned/prepost and burned/postonly post-fire images: 15 California fires (Copernicus Sentinel-2 L2A, "
        "CAL FIRE perimeters) + seeded simulated burns on OSCD and eo-learn backgrounds; see models/burned_s2_post.md"
    ),
    "burned_s2": (
        "burned/prepost: 7 California fires (Copernicus Sentinel-2 L2A, CAL FIRE perimeters) + seeded "
        "simulated burns on OSCD (CC-BY-4.0) and eo-learn (MIT) Sentinel-2 backgrounds; see models/burned_s2.md"
    ),
    "flood_s1": f"{SIM_SAR}; see models/flood_s1.md",
    "flood_s1_after": f"{SIM_SAR}; see models/flood_s1_after.md",
    "change_s2": "OSCD, Daudt et al. 2018 (CC-BY-4.0), 10 cities + seeded simulated construction; see card",
    "landslide_s2": (
        "Simulation only (no real landslide labels): seeded landslides on OSCD first dates (CC-BY-4.0, 7 cities) "
        "with generated terrain and on eo-learn Sentinel-2 scenes (MIT) with their DEM; see models/landslide_s2.md"
    ),
}


def build_document(task: tasks.Task, threshold: float, version: str) -> dict[str, Any]:
    """The metadata document of one model (validated when written)."""
    optical = "_s2" in task.name  # Sentinel-2 models take reflectance; the others are SAR
    doc: dict[str, Any] = {
        "name": task.name,
        "task": TASK_KIND[task.name],
        "description": f"{TITLES[task.name]}. {DESCRIPTIONS[task.name]}",
        # Permanent water is a background class: it is mapped but not counted as flood area.
        "classes": [
            {"name": n, "color": c, "background": n in ("dry", "permanent water") or i == 0}
            for i, (n, c) in enumerate(CLASSES[task.name])
        ],
        "layout": "concat" if task.two_dates else "single",
        "bands": list(task.bands),
        "tile_size_px": 256,
        "tile_overlap_px": 32,
        "pixel_size_m": task.pixel_size_m,
        "output": {"kind": "probabilities", "activation": "none"},
        "version": version,
        "license": "CC-BY-4.0",
        "training_data": TRAINING_DATA[task.name],
        "url": f"models/{task.name}.md",
    }
    if task.classes == 1:
        doc["threshold"] = threshold
    if task.terrain:
        doc["terrain"] = list(task.terrain)
    if optical:
        # Reflectance 0..1; the fixed standardisation lives inside the graph.
        doc["values"] = "reflectance"
        doc["preprocessing"] = {"*": {"clip": [0.0, 1.5]}}
    else:
        doc["values"] = "stored"
        doc["normalization"] = "per_scene"
        doc["preprocessing"] = {"*": {"mean": 0.0, "std": 1.0}}
    return doc


def apply(model: Any, task: tasks.Task, threshold: float, version: str) -> None:
    """Write the validated document into an ``onnx.ModelProto`` in place."""
    write_metadata(model, build_document(task, threshold, version))
