"""Task definitions: model shape, sampler, held-out evaluation data. One place for each model's facts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import data
import landslide_sim as ls
import numpy as np


@dataclass(frozen=True)
class Task:
    name: str
    bands: tuple[str, ...]  # per date
    two_dates: bool
    widths: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    per_tile: bool
    patch_px: int
    batch: int
    sim_frac: float
    pixel_size_m: float
    ratio: bool = False
    classes: int = 1  # 1 = one sigmoid channel (two classes); K > 1 = softmax over K classes
    groups: tuple[str, ...] = field(default_factory=tuple)  # validation groups (events/cities)
    sim_kw: str = ""  # JSON keyword arguments for the task's simulator (flood: simulate.simulate_flood)
    terrain: tuple[str, ...] = ()  # channels after the dates' bands, computed from a DEM (metadata "terrain")


TASKS = {
    "burned_s2": Task(
        "burned_s2",
        ("B08", "B12"),
        True,
        (8, 16, 32),
        (0.25, 0.18),
        (0.1, 0.1),
        False,
        64,
        16,
        0.3,
        20.0,
        ratio=True,
        groups=data.BURN_EVENTS,
    ),
    "burned_s2_post": Task(
        "burned_s2_post",
        ("B08", "B12"),
        False,
        (8, 16, 32),
        (0.25, 0.18),
        (0.1, 0.1),
        False,
        64,
        16,
        0.3,
        20.0,
        ratio=True,
        groups=data.BURN_EVENTS + data.POSTONLY_EVENTS,
    ),
    "flood_s1": Task("flood_s1", ("VV",), True, (8, 16, 32), (0.0,), (1.0,), True, 128, 8, 1.0, 10.0, False, 3),
    "flood_s1_after": Task("flood_s1_after", ("VV",), False, (8, 16, 32), (0.0,), (1.0,), True, 128, 8, 0.7, 10.0),
    # After-image water trained on the Sen1Floods11 chips of the training events (half the samples) + simulation.
    "flood_s1_after_s1f11": Task(
        "flood_s1_after_s1f11",
        ("VV",),
        False,
        (8, 16, 32),
        (0.0,),
        (1.0,),
        True,
        128,
        8,
        0.5,
        10.0,
        groups=tuple(data.S1F11_EVENTS),
    ),
    "change_s2": Task(
        "change_s2",
        ("B02", "B03", "B04", "B08", "B11", "B12"),
        True,
        (16, 32, 64, 128),
        (0.12, 0.11, 0.11, 0.22, 0.2, 0.15),
        (0.06, 0.06, 0.07, 0.08, 0.08, 0.08),
        False,
        64,
        16,
        0.25,
        10.0,
        groups=data.OSCD_CITIES,
    ),
    "landslide_s2": Task(
        "landslide_s2",
        ("B02", "B03", "B04", "B08", "B11", "B12"),
        True,
        (16, 32, 64),
        (0.12, 0.11, 0.11, 0.22, 0.2, 0.15),
        (0.06, 0.06, 0.07, 0.08, 0.08, 0.08),
        False,
        96,
        12,
        1.0,
        10.0,
        groups=data.LANDSLIDE_GROUPS,
        terrain=("slope_deg",),
    ),
}


def sampler(task: Task, holdout: list[str]):
    train_groups = [g for g in task.groups if g not in holdout]
    if task.name == "burned_s2":
        return data.burned_sampler(train_groups, task.patch_px, task.sim_frac)
    if task.name == "burned_s2_post":
        return data.burned_post_sampler(train_groups, task.patch_px, task.sim_frac)
    if task.name == "flood_s1":
        return data.flood_sampler(task.patch_px, after_only=False, sim_kw=json.loads(task.sim_kw or "{}"))
    if task.name == "flood_s1_after":
        return data.flood_sampler(
            task.patch_px, after_only=True, real_frac=1.0 - task.sim_frac, sim_kw=json.loads(task.sim_kw or "{}")
        )
    if task.name == "flood_s1_after_s1f11":
        return data.s1f11_sampler(train_groups, task.patch_px, 1.0 - task.sim_frac, json.loads(task.sim_kw or "{}"))
    if task.name == "change_s2":
        return data.change_sampler(train_groups, task.patch_px, task.sim_frac, **json.loads(task.sim_kw or "{}"))
    if task.name == "landslide_s2":
        return data.landslide_sampler(train_groups, task.patch_px)
    raise KeyError(task.name)


def eval_cases(task: Task, holdout: list[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(case id, x (C,H,W), label (H,W) with 255 ignore) for the held-out groups."""
    out = []
    if task.name == "burned_s2":
        for e in holdout:
            z = data.load_burned(e)
            out.append((e, np.concatenate([z["pre"], z["post"]]), z["label"]))
    elif task.name == "burned_s2_post":
        for e in holdout:
            z = data.load_burned(e, "postonly" if e in data.POSTONLY_EVENTS else "prepost")
            out.append((e, z["post"], z["label"]))
    elif task.name == "change_s2":
        for c in holdout:
            z = data.load_oscd(c)
            out.append((c, np.concatenate([z["t1"], z["t2"]]), z["label"]))
    elif task.name == "landslide_s2":
        # The fixed simulated held-out set (same scenes as `make eval`); --holdout must name its backgrounds.
        eo = np.load(data.CACHE / "eolearn.npz")
        cities = {c: data.load_oscd(c)["t1"] for c in ls.HELDOUT_CITIES}
        for name, x, label, _dem in ls.heldout_scenes(cities, eo["scenes"][ls.HELDOUT_EOLEARN], eo["dem"]):
            out.append((name, x, label))
    elif task.name == "flood_s1_after_s1f11":
        for e in holdout:
            for c in data.S1F11_EVENTS[e]:
                z = np.load(data.CACHE / f"s1f11_{c}.npz")
                out.append((f"{c}_VV", z["s1"][:1], z["label"]))
                out.append((f"{c}_VH", z["s1"][1:], z["label"]))
    elif task.name in ("flood_s1", "flood_s1_after"):
        z = np.load(data.CACHE / "ombria_eval.npz")
        for i, sid in enumerate(z["ids"]):
            b, a = z["before"][i].astype(np.float32), z["after"][i].astype(np.float32)
            x = np.stack([b, a]) if task.two_dates else a[None]
            out.append((f"ombria_{sid}", x, z["label"][i]))
        if not task.two_dates:
            s = np.load(data.CACHE / "s1f11_Spain_7370579.npz")
            out.append(("s1f11_VV", s["s1"][:1], s["label"]))
            out.append(("s1f11_VH", s["s1"][1:], s["label"]))
    return out
