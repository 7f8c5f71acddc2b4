"""Eval rows for the bundled models (``model:<name>``), run through "Run ONNX model".

Which cases are in-sample comes from each model card's ``training_cases`` list (``card=``; see
tools/eval/cards.py), never from the dataset's name; the ``:loeo`` / ``:fold`` rows (``held_out=True``)
run the held-out models that ``training/validate_*.sh`` leave in ``training/runs/`` (git-ignored: on
a fresh clone those rows are skipped case by case).
"""

from __future__ import annotations

import json
from pathlib import Path

from .datasets import Case
from .methods import Method, Params, register

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "training" / "runs"


def _run(model: str | None, before: str, after: str | None, work: Path, **extra: object) -> dict[str, object] | None:
    if model and not (ROOT / "models" / model).is_file():
        return None  # not bundled: training/ can rebuild it, the row is skipped
    params: dict[str, object] = {"IMAGE": before, "OUTPUT_CLASSES": str(work / "classes.tif"), **extra}
    if after is not None:
        params["AFTER"] = after
    return params | ({"BUNDLED_MODEL": model} if model else {})


# The shared fires hold reflectance x 10000 with no offset (shared/data/README.md); their pre/post files
# carry no product metadata and some (e.g. DOVE's post-fire image: TCI, B8, B12 only) leave the Sentinel-2
# offset question open, so the rows say which conversion applies, as a user of that data would.
BURNED_DN: dict[str, object] = {"RADIOMETRY": 1}


def _file(path: Path) -> dict[str, object] | None:
    return {"MODEL_FILE": str(path)} if path.is_file() else None


def _burned(loeo: bool) -> Params:
    def params(case: Case, work: Path) -> dict[str, object] | None:
        if not loeo:
            return _run("burned_s2.onnx", case.inputs["pre"], case.inputs["post"], work, **BURNED_DN)
        held_out = _file(RUNS / f"burned_s2_loeo_{case.name}" / "model.onnx")
        if held_out is None:
            return None
        return _run(None, case.inputs["pre"], case.inputs["post"], work, **held_out, **BURNED_DN)

    return params


def _burned_post(fold: bool) -> Params:
    def params(case: Case, work: Path) -> dict[str, object] | None:
        if not fold:
            return _run("burned_s2_post.onnx", case.inputs["post"], None, work, **BURNED_DN)
        folds_file = ROOT / "training" / "burned_post_folds.json"
        folds = json.loads(folds_file.read_text()) if folds_file.is_file() else {}
        name = next((f for f, fires in folds.items() if case.name in fires), None)
        held_out = _file(RUNS / f"burned_s2_post_{name}" / "model.onnx") if name else None
        return None if held_out is None else _run(None, case.inputs["post"], None, work, **held_out, **BURNED_DN)

    return params


def _sar(model: str, two_dates: bool) -> Params:
    def params(case: Case, work: Path) -> dict[str, object] | None:
        after = case.inputs.get("after") or case.inputs.get("S1Hand")
        if after is None or (two_dates and "before" not in case.inputs):
            return None
        aligned = {"PIXEL_ALIGNED": True} if after.lower().endswith(".png") else {}  # OMBRIA PNGs: no georef
        if two_dates:
            return _run(model, case.inputs["before"], after, work, BANDS="1", **aligned)
        return _run(model, after, None, work, BANDS="1", **aligned)

    return params


def _change(fold: bool) -> Params:
    def params(case: Case, work: Path) -> dict[str, object] | None:
        if "t1" not in case.inputs:
            return None
        dates = [case.inputs["t1"], case.inputs["t2"]]  # folders of band files: the model's bands are stacked
        if not fold:
            return _run("change_s2.onnx", dates[0], dates[1], work)
        folds_file = ROOT / "training" / "oscd_folds.json"
        folds = json.loads(folds_file.read_text()) if folds_file.is_file() else {}
        name = next((f for f, cities in folds.items() if case.name in cities), None)
        held_out = _file(RUNS / f"change_s2_{name}" / "model.onnx") if name else None
        return None if held_out is None else _run(None, dates[0], dates[1], work, **held_out)

    return params


def _landslide(case: Case, work: Path) -> dict[str, object] | None:
    i = case.inputs
    # The simulated scenes hold UInt16 DN = reflectance x 10000, no offset (tools/eval/landslide_scenes.py).
    return _run("landslide_s2.onnx", i["before"], i["after"], work, DEM=i["dem"], RADIOMETRY=1)


# In-sample notes are derived per case from each card's ``training_cases`` (tools/eval/cards.py).
IN_SAMPLE = "bundled weights"
register(
    Method(
        "model:burned_s2",
        ("burn_prepost",),
        False,
        "changelens:runmodel",
        _burned(False),
        "OUTPUT_CLASSES",
        (1,),
        IN_SAMPLE,
        card="burned_s2",
    )
)
register(
    Method(
        "model:burned_s2:loeo",
        ("burn_prepost",),
        False,
        "changelens:runmodel",
        _burned(True),
        "OUTPUT_CLASSES",
        (1,),
        "leave-one-fire-out models from training/validate_burned.sh",
        card="burned_s2",
        held_out=True,
    )
)
register(
    Method(
        "model:burned_s2_refine",
        ("burn_prepost",),
        False,
        "changelens:runmodel",
        lambda case, work: _run("burned_s2_refine.onnx", case.inputs["pre"], case.inputs["post"], work, **BURNED_DN),
        "OUTPUT_CLASSES",
        (1,),
        "refines the offset-corrected dNBR; nested leave-one-fire-out figures in its card",
        card="burned_s2_refine",
    )
)
register(
    Method(
        "model:burned_s2_post",
        ("burn_prepost", "burn_postonly"),
        False,
        "changelens:runmodel",
        _burned_post(False),
        "OUTPUT_CLASSES",
        (1,),
        "post-fire image only",
        card="burned_s2_post",
    )
)
register(
    Method(
        "model:burned_s2_post:fold",
        ("burn_prepost", "burn_postonly"),
        False,
        "changelens:runmodel",
        _burned_post(True),
        "OUTPUT_CLASSES",
        (1,),
        "post-fire image only; leave-five-fires-out models from training/validate_burned_post.sh",
        card="burned_s2_post",
        held_out=True,
    )
)
register(
    Method(
        "model:flood_s1",
        ("sar_pairs_png",),
        False,
        "changelens:runmodel",
        _sar("flood_s1.onnx", True),
        "OUTPUT_CLASSES",
        (1, 2),
        "permanent water + flooded (OMBRIA masks include pre-existing water)",
        card="flood_s1",
    )
)
register(
    Method(
        "model:flood_s1_after",
        ("sar_pairs_png", "s1s2_chips"),
        False,
        "changelens:runmodel",
        _sar("flood_s1_after.onnx", False),
        "OUTPUT_CLASSES",
        (1,),
        "after image only (the card lists the Sen1Floods11 chip whose left half trained it)",
        card="flood_s1_after",
    )
)
register(
    Method(
        "model:change_s2",
        ("s2_band_folders",),
        False,
        "changelens:runmodel",
        _change(False),
        "OUTPUT_CLASSES",
        (1,),
        IN_SAMPLE,
        card="change_s2",
    )
)
register(
    Method(
        "model:change_s2:fold",
        ("s2_band_folders",),
        False,
        "changelens:runmodel",
        _change(True),
        "OUTPUT_CLASSES",
        (1,),
        "leave-one-city-out models from training/validate_change.sh",
        card="change_s2",
        held_out=True,
    )
)
register(
    Method(
        "model:landslide_s2",
        ("landslide_sim",),
        False,
        "changelens:runmodel",
        _landslide,
        "OUTPUT_CLASSES",
        (1,),
        "simulated scenes on backgrounds and seeds the bundled weights never trained on (see models/landslide_s2.md)",
        card="landslide_s2",
    )
)
