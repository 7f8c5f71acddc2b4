"""The ONNX metadata of every bundled model, built in one place from the task definition.

Values are JSON (stored in ``metadata_props``); the schema is the plugin's (models/README.md).
"""

from __future__ import annotations

import json

import tasks

LICENCE = "CC-BY-4.0"
CLASSES = {
    "burned_s2": [("unburned", "#00000000", True), ("burned", "#d7301f", False)],
    "flood_s1": [("not flooded", "#00000000", True), ("flooded", "#2b83ba", False)],
    "flood_s1_after": [("dry", "#00000000", True), ("water", "#2b83ba", False)],
    "change_s2": [("no change", "#00000000", True), ("change", "#e31a1c", False)],
}
DESCRIPTIONS = {
    "burned_s2": "Burned area from pre- and post-fire Sentinel-2 (NIR B08 or B8A, SWIR2 B12).",
    "flood_s1": "Flood extent (new water) from Sentinel-1 before/after, one polarisation (VV or VH).",
    "flood_s1_after": "Open water from one Sentinel-1 image, one polarisation (VV or VH).",
    "change_s2": "Land-cover / built-up change from two Sentinel-2 dates (L1C or L2A).",
}
TRAINING_DATA = {
    "burned_s2": "burned/prepost (7 California fires, Copernicus Sentinel data, CAL FIRE perimeters) + simulated burns on OSCD and eo-learn Sentinel-2 backgrounds",
    "flood_s1": "simulated Sentinel-1 (gamma speckle, 3.5-5.5 looks) on OSCD and eo-learn Sentinel-2 backgrounds (CC-BY-4.0, MIT)",
    "flood_s1_after": "simulated Sentinel-1 (gamma speckle, 3.5-5.5 looks) on OSCD and eo-learn Sentinel-2 backgrounds (CC-BY-4.0, MIT)",
    "change_s2": "OSCD (Daudt et al. 2018, CC-BY-4.0), 10 cities + simulated construction on OSCD/eo-learn backgrounds",
}


def build_metadata(task: tasks.Task, threshold: float, version: str, extra: dict | None = None) -> dict[str, str]:
    """Return ``metadata_props`` (str -> JSON str) for one exported model."""
    optical = task.name.endswith("_s2")
    if optical:
        band_pre = {"scale": 0.0001, "offset": 0.0, "units": "reflectance", "clip": [0.0, 1.5]}
    else:
        band_pre = {"units": "any: dB, linear power, amplitude or 8-bit stretched", "per_scene_normalisation": "in graph (per tile, per date)"}
    dates = ["before", "after"] if task.two_dates else ["after"]
    meta = {
        "name": task.name,
        "description": DESCRIPTIONS[task.name],
        "task": "change" if task.two_dates else "segmentation",
        "classes": [{"value": i, "name": n, "color": c, "background": bg} for i, (n, c, bg) in enumerate(CLASSES[task.name])],
        "input_layout": "two_dates_concat" if task.two_dates else "single",
        "inputs": [{"name": "input", "dates": dates, "bands": list(task.bands)}],
        "preprocessing": {b: band_pre for b in task.bands},
        "tile_size": 256,
        "tile_overlap": 32,
        "pixel_size_m": task.pixel_size_m,
        "output": {"kind": "probability", "activation": "sigmoid", "channels": 1, "threshold": threshold},
        "version": version,
        "licence": LICENCE,
        "training_data": TRAINING_DATA[task.name],
    }
    if extra:
        meta.update(extra)
    return {k: json.dumps(v) for k, v in meta.items()}
