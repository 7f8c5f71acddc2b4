"""Find labelled cases under a data root, following the layouts of ``shared/data/README.md``.

A dataset is recognised by its content, not its name, so new split folders
(``flood/ombria_s1/<any split>/``) and new cases are picked up without changes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

IMAGE_EXT = (".tif", ".tiff", ".png", ".jpg")


@dataclass(frozen=True)
class Case:
    """One labelled example: named input files, the label raster and how to read it."""

    name: str
    inputs: dict[str, str]
    label: str
    positive: tuple[int, ...] = (1,)
    ignore: tuple[int, ...] = ()


@dataclass
class Dataset:
    """A folder of cases of one kind; ``path`` is relative to the data root."""

    path: str
    kind: str
    cases: list[Case] = field(default_factory=list)


def _number(name: str) -> str | None:
    match = re.search(r"(\d+)(?=\.[^.]+$)", name)
    return match.group(1) if match else None


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXT)


def _paired_folders(folder: Path, before: str, after: str, label: str, positive: tuple[int, ...]) -> list[Case]:
    """Cases matched by the number in the file names (OMBRIA) or by identical names (LEVIR)."""
    by_key: dict[str, dict[str, Path]] = {}
    for role, sub in (("before", before), ("after", after), ("label", label)):
        for path in _files(folder / sub):
            key = path.name if sub in ("A", "B", "label") else (_number(path.name) or path.stem)
            by_key.setdefault(key, {})[role] = path
    return [
        Case(key, {"before": str(d["before"]), "after": str(d["after"])}, str(d["label"]), positive)
        for key, d in sorted(by_key.items())
        if {"before", "after", "label"} <= d.keys()
    ]


def _oscd_case(city: Path) -> Case:
    """A city's two dates are its folders of band files (``t1/B01.tif`` ...): ChangeLens reads them as
    products and stacks the bands a row asks for; the harness builds no stack of its own."""
    return Case(city.name, {"t1": str(city / "t1"), "t2": str(city / "t2")}, str(city / "change.tif"))


def _classify(folder: Path) -> tuple[str, list[Case]] | None:
    """The dataset kind and cases held directly in ``folder``, or None."""
    subs = {p.name for p in folder.iterdir() if p.is_dir()}
    if {"BEFORE", "AFTER", "MASK"} <= subs:
        return "sar_pairs_png", _paired_folders(folder, "BEFORE", "AFTER", "MASK", (255,))
    if {"A", "B", "label"} <= subs:
        return "rgb_pairs_png", _paired_folders(folder, "A", "B", "label", (255,))
    children = [folder / s for s in sorted(subs)]
    oscd = [c for c in children if (c / "t1").is_dir() and (c / "t2").is_dir() and (c / "change.tif").is_file()]
    if oscd:
        return "s2_band_folders", [_oscd_case(c) for c in oscd]
    chips = [c for c in children if (c / "LabelHand.tif").is_file()]
    if chips:
        cases = [
            Case(
                c.name,
                {k: str(c / f"{k}.tif") for k in ("S1Hand", "S2Hand") if (c / f"{k}.tif").is_file()},
                str(c / "LabelHand.tif"),
                (1,),
                (-1,),
            )
            for c in chips
        ]
        return "s1s2_chips", cases
    fires = [c for c in children if (c / "post.tif").is_file() and (c / "mask.tif").is_file()]
    if fires:
        prepost = [c for c in fires if (c / "pre.tif").is_file()]
        if prepost:
            return "burn_prepost", [
                Case(c.name, {"pre": str(c / "pre.tif"), "post": str(c / "post.tif")}, str(c / "mask.tif"))
                for c in prepost
            ]
        return "burn_postonly", [
            Case(
                c.name,
                {"post": str(c / "post.tif")}
                | ({"dnbr_source": str(c / "dnbr_source.tif")} if (c / "dnbr_source.tif").is_file() else {}),
                str(c / "mask.tif"),
            )
            for c in fires
        ]
    return None


def discover(root: str | os.PathLike) -> Iterator[Dataset]:
    """Every labelled dataset under ``root`` (depth-first; a dataset's own folders are not searched)."""
    base = Path(root)
    stack = [base]
    while stack:
        folder = stack.pop(0)
        found = _classify(folder)
        if found:
            kind, cases = found
            yield Dataset(folder.relative_to(base).as_posix(), kind, cases)
            continue
        stack.extend(sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))
