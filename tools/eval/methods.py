"""Which Processing algorithm (and parameters) each eval row runs on each kind of dataset.

To add a row (e.g. a bundled model), register one more :class:`Method`::

    register(Method("model:tinycd", ("rgb_pairs_png", "s2_band_folders"), True,
                    "changelens:changemodel", lambda case, work: {...}, "OUTPUT", (2,)))

``params`` gets the case and a scratch folder and returns the algorithm's
parameters (the output path must be under the scratch folder), or None when the
case cannot be served.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .datasets import Case

Params = Callable[[Case, Path], "dict[str, object] | None"]


@dataclass(frozen=True)
class Method:
    """One eval row: a Processing algorithm run with fixed parameters on some dataset kinds."""

    name: str
    kinds: tuple[str, ...]
    default: bool
    algorithm: str
    params: Params
    output: str = "OUTPUT"
    positive: tuple[int, ...] = (2, 3)
    note: str = ""
    # The model card (file stem) whose ``training_cases`` say which cases are in-sample; "" for index methods.
    card: str = ""
    # True for rows that run held-out fold models: a case is never in the training set of the model scoring it.
    held_out: bool = False


METHODS: list[Method] = []
# (dataset kind, method name, why the method cannot serve that kind): listed as skipped in the report.
SKIPS: list[tuple[str, str, str]] = []


def register(method: Method) -> None:
    """Add an eval row (replacing one of the same name)."""
    METHODS[:] = [m for m in METHODS if m.name != method.name] + [method]


def skip(kind: str, method: str, reason: str) -> None:
    """Record that ``method`` cannot serve datasets of ``kind`` and why."""
    SKIPS.append((kind, method, reason))


OSCD_BANDS = ("B02", "B03", "B04", "B08")


def _aligned(paths: tuple[str, ...]) -> dict[str, object]:
    """PNG chips (OMBRIA, LEVIR) carry no georeferencing: the pairs are pixel-aligned images."""
    return {"PIXEL_ALIGNED": True} if any(str(p).lower().endswith(".png") for p in paths) else {}


def _cva(extra: dict[str, object]) -> Params:
    def params(case: Case, work: Path) -> dict[str, object] | None:
        if "t1" in case.inputs:  # OSCD: the folders of band files, read as products
            bands = {"BANDS": ",".join(OSCD_BANDS)}
            return (
                {"DATE1": case.inputs["t1"], "DATE2": case.inputs["t2"], "OUTPUT": str(work / "change.tif")}
                | bands
                | extra
            )
        pair = (case.inputs["before"], case.inputs["after"])
        return {"DATE1": pair[0], "DATE2": pair[1], "OUTPUT": str(work / "change.tif"), **_aligned(pair), **extra}

    return params


def _burn(case: Case, work: Path) -> dict[str, object]:
    return {
        "RADIOMETRY": 1,  # the shared fires hold reflectance x 10000, no offset (shared/data/README.md)
        "PRE": case.inputs["pre"],
        "POST": case.inputs["post"],
        "OUTPUT_DNBR": str(work / "dnbr.tif"),
        "OUTPUT_SEVERITY": str(work / "severity.tif"),
    }


def _sar(extra: dict[str, object]) -> Params:
    def params(case: Case, work: Path) -> dict[str, object] | None:
        after = case.inputs.get("after") or case.inputs.get("S1Hand")
        if after is None:
            return None
        base = {"AFTER": after, "OUTPUT": str(work / "flood.tif"), "OUTPUT_MEASURE": str(work / "measure.tif")}
        if "before" in case.inputs:
            base["BEFORE"] = case.inputs["before"]
        return base | _aligned((after,)) | extra

    return params


def _optical(case: Case, work: Path) -> dict[str, object] | None:
    after = case.inputs.get("S2Hand")
    if after is None:
        return None
    return {"AFTER": after, "OUTPUT": str(work / "flood.tif")}


def _landslide(case: Case, work: Path) -> dict[str, object]:
    i = case.inputs
    return {
        "RADIOMETRY": 1,  # the simulated scenes hold DN = reflectance x 10000, no offset (landslide_scenes.py)
        "BEFORE": i["before"],
        "AFTER": i["after"],
        "DEM": i["dem"],
        "OUTPUT": str(work / "landslides.tif"),
    }


register(Method("dnbr", ("burn_prepost",), True, "changelens:burnseverity", _burn, "OUTPUT_SEVERITY", (4, 5, 6, 7)))
register(Method("sar_flood", ("sar_pairs_png", "s1s2_chips"), True, "changelens:sarflood", _sar({})))
register(
    Method(
        "sar_flood:ki",
        ("sar_pairs_png", "s1s2_chips"),
        False,
        "changelens:sarflood",
        _sar({"THRESHOLD_METHOD": 1}),
    )
)
register(
    Method(
        "sar_flood:vh_otsu_nofilter",
        ("s1s2_chips",),
        False,
        "changelens:sarflood",
        _sar({"POLARISATION": 2, "FILTER": 3}),
        note="baseline: VH + Otsu, no speckle filter",
    )
)
register(Method("optical_flood", ("s1s2_chips",), True, "changelens:opticalflood", _optical))
register(Method("cva", ("s2_band_folders", "rgb_pairs_png"), True, "changelens:cva", _cva({}), positive=(2,)))
register(
    Method(
        "cva:plain_otsu",
        ("s2_band_folders", "rgb_pairs_png"),
        False,
        "changelens:cva",
        _cva({"NORMALISATION": 2, "THRESHOLD_METHOD": 0, "SMOOTH": 1}),
        positive=(2,),
        note="baseline: raw differences, Otsu, no smoothing",
    )
)
register(
    Method(
        "landslide",
        ("landslide_sim",),
        True,
        "changelens:landslide",
        _landslide,
        "OUTPUT",
        (2,),
        "default parameters (NDVI drop >= 0.2, brightening >= 0.02, slope >= 10 deg, 500 m2)",
    )
)
register(
    Method(
        "vegetation_loss",
        ("vegetation_loss_real",),
        True,
        "changelens:vegetationloss",
        lambda case, work: {
            "BEFORE": case.inputs["before"],
            "AFTER": case.inputs["after"],
            "OUTPUT": str(work / "loss.tif"),
        },
        "OUTPUT",
        (2,),
        "default parameters (Kittler-Illingworth on each drop, never below 0.1; NDVI before >= 0.4)",
    )
)
skip("burn_postonly", "dnbr", "dNBR needs a pre-fire image and these cases hold post-fire images only")
skip("sar_pairs_png", "optical_flood", "the cases hold Sentinel-1 images only")
skip("burn_prepost", "cva", "burn perimeters are not a change-detection reference for change vectors")

from . import model_rows  # noqa: E402,F401  (registers the model:<name> rows)
