"""Benchmark: every index method through qgis_process.bin against QGIS's raster calculator and gdal_calc.py.

    python tools/bench_methods.py --out build/bench.json [--size 10980] [--repeats 3] [--only burnseverity,cva]

Each method runs on a generated before/after pair (``tools/bench_scenes.py``: tiled, uncompressed,
10980 x 10980 by default, made once in ``--workdir``) as three whole processes, each timed from
outside with ``/usr/bin/time -v`` (wall seconds, peak RSS): ChangeLens (``qgis_process.bin run
changelens:<id>``, its default outputs), ``qgis:rastercalculator`` and ``gdal_calc.py`` computing
the same index from the same bands (one Float32 output). Repeats are interleaved (the order rotates)
because the machine is shared; the JSON gets every run, medians, the ratio of ChangeLens's median to
the faster calculator's (``*_ratio``; the goal is 0.5 or less) and the median of per-repeat ratios,
the machine load before each run, and the size of each ChangeLens output against the same pixels
written with the previous creation options (DEFLATE level 1 with a predictor for every type).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from osgeo import gdal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scenes  # noqa: E402
from bench_qgis import plugin_env, timed  # noqa: E402

gdal.UseExceptions()
GOAL_RATIO = 0.5
GOAL_PEAK_MB = 500.0
OLD_OPTIONS = {  # what every ChangeLens raster was written with before: DEFLATE level 1 and a predictor
    gdal.GDT_Float32: ["TILED=YES", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=3", "BIGTIFF=IF_SAFER"],
    gdal.GDT_Byte: ["TILED=YES", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=2", "BIGTIFF=IF_SAFER"],
}


@dataclass(frozen=True)
class Case:
    """One comparison: the scene, ChangeLens's parameters and outputs, and the calculators' expressions.

    ``calc`` uses ``{b}``/``{a}`` for the before/after layer names (``name@band``); ``gdal`` is the
    numpy expression for gdal_calc.py over ``inputs`` (letter -> date and band).
    """

    method: str
    scene: str
    params: tuple[tuple[str, str], ...]  # (parameter, "before"/"after" or an output key)
    calc: str
    gdal: str
    inputs: tuple[tuple[str, str, int], ...]
    note: str
    extra: tuple[tuple[str, str], ...] = ()  # further ChangeLens parameters as given on the command line


def _nd(x: str, y: str) -> str:
    return f'("{x}" - "{y}") / ("{x}" + "{y}")'


BURN_BANDS = (("A", "before", 1), ("B", "before", 2), ("C", "after", 1), ("D", "after", 2))
CVA_BANDS = tuple((x, "before", i) for i, x in enumerate("ABCD", 1)) + tuple(
    (x, "after", i) for i, x in enumerate("EFGH", 1)
)
# Generated DN carry no product metadata: the +1000 DN offset question is answered, as a user would (s2_dn).
S2_DN = (("RADIOMETRY", "1"),)
CASES = (
    Case("burnseverity", "burn",
         (("PRE", "before"), ("POST", "after"), ("OUTPUT_DNBR", "dnbr"), ("OUTPUT_SEVERITY", "severity")),
         f"{_nd('{b}@1', '{b}@2')} - {_nd('{a}@1', '{a}@2')}",
         "(A.astype(float)-B)/(A.astype(float)+B)-(C.astype(float)-D)/(C.astype(float)+D)", BURN_BANDS,
         "ChangeLens writes dNBR and the severity classes; the calculators write dNBR.", S2_DN),
    Case("opticalflood", "water",
         (("BEFORE", "before"), ("AFTER", "after"), ("OUTPUT", "classes"), ("OUTPUT_INDEX", "index")),
         f"(({_nd('{a}@1', '{a}@2')}) > 0) AND (({_nd('{b}@1', '{b}@2')}) <= 0)",
         "logical_and((C.astype(float)-D)/(C.astype(float)+D) > 0, (A.astype(float)-B)/(A.astype(float)+B) <= 0)",
         BURN_BANDS,
         "ChangeLens: MNDWI of both dates, automatic threshold, flood classes and the after MNDWI; the "
         "calculators: MNDWI of both dates and the new-water rule at the textbook threshold 0.", S2_DN),
    Case("sarflood", "sar",
         (("BEFORE", "before"), ("AFTER", "after"), ("OUTPUT", "classes"), ("OUTPUT_MEASURE", "measure")),
         '"{a}@1" - "{b}@1"', "B - A", (("A", "before", 1), ("B", "after", 1)),
         "ChangeLens: refined Lee 7x7 speckle filter on both dates, log-ratio, automatic thresholds, classes; "
         "the calculators: the log-ratio alone (after dB - before dB), no speckle filter."),
    Case("cva", "spectral",
         (("DATE1", "before"), ("DATE2", "after"), ("OUTPUT", "classes"), ("OUTPUT_MAGNITUDE", "magnitude")),
         "sqrt(" + " + ".join(f'("{{a}}@{i}" - "{{b}}@{i}")^2' for i in range(1, 5)) + ")",
         "sqrt(" + " + ".join(f"({y}.astype(float)-{x})**2" for x, y in zip("ABCD", "EFGH")) + ")", CVA_BANDS,
         "ChangeLens: 4 bands normalised per band, magnitude, automatic threshold, 3x3 median, classes; the "
         "calculators: the raw change-vector magnitude of the 4 bands."),
)  # fmt: skip


def commands(case: Case, files: dict[str, str], out: Path) -> dict[str, list[str]]:
    """The three command lines of ``case``: ChangeLens, the raster calculator, gdal_calc.py."""
    names = {date: Path(path).stem for date, path in files.items()}
    ours = [f"{p}={files[v]}" if v in files else f"{p}={out / f'{case.method}_{v}.tif'}" for p, v in case.params]
    ours += [f"{p}={v}" for p, v in case.extra]
    expression = case.calc.format(b=names["before"], a=names["after"])
    calc_inputs = [arg for x, date, band in case.inputs for arg in (f"-{x}", files[date], f"--{x}_band={band}")]
    return {
        "changelens": ["qgis_process.bin", "run", f"changelens:{case.method}", "--", *ours],
        "raster_calculator": ["qgis_process.bin", "run", "qgis:rastercalculator", "--", f"EXPRESSION={expression}",
                              f"LAYERS={files['before']}", f"LAYERS={files['after']}",
                              f"OUTPUT={out / f'{case.method}_rastercalculator.tif'}"],
        "gdal_calc": ["gdal_calc.py", "--quiet", "--overwrite", *calc_inputs, "--type=Float32", f"--calc={case.gdal}",
                      f"--outfile={out / f'{case.method}_gdal_calc.tif'}"],
    }  # fmt: skip


def old_size(path: Path, scratch: Path) -> int:
    """Bytes the pixels of ``path`` take with the previous creation options (re-encoded once)."""
    ds = gdal.Open(str(path))
    target = scratch / f"old_{path.name}"
    gdal.Translate(str(target), ds, creationOptions=OLD_OPTIONS[ds.GetRasterBand(1).DataType])
    size = target.stat().st_size
    target.unlink()
    return size


def run_case(case: Case, args: argparse.Namespace, envs: dict[str, dict[str, str]], work: Path) -> dict:
    """Interleaved repeats of every side of ``case`` (the order rotates); medians, ratios, output sizes.

    ``envs`` maps a ChangeLens side (``changelens``, and ``changelens_before`` for an older checkout)
    to the environment whose plugin path holds that checkout.
    """
    before, after = bench_scenes.scene(work / "scenes", case.scene, args.size)
    files = {"before": before, "after": after}
    outs = {side: work / "out" / side for side in envs}
    cmds = {}
    for side, folder in outs.items():
        folder.mkdir(parents=True, exist_ok=True)
        cmds[side] = commands(case, files, folder)["changelens"]
    if args.without_mmu:  # the same run without the default minimum mapping unit (a whole-raster GDAL sieve)
        outs["changelens_no_mmu"] = work / "out" / "changelens_no_mmu"
        outs["changelens_no_mmu"].mkdir(parents=True, exist_ok=True)
        plain = commands(case, files, outs["changelens_no_mmu"])["changelens"]
        cmds["changelens_no_mmu"] = [*plain, "MIN_AREA_PIXELS=0"]
    cmds.update({k: v for k, v in commands(case, files, work / "out").items() if k != "changelens"})
    sides = list(cmds)
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    for repeat in range(args.repeats):
        shift = repeat % len(sides)
        for side in sides[shift:] + sides[:shift]:
            folder = outs.get(side, work / "out")
            stem = (
                case.method
                if side in outs
                else f"{case.method}_{side.replace('raster_calculator', 'rastercalculator')}"
            )
            for stale in folder.glob(f"{stem}*.*"):
                stale.unlink()  # every side writes new files
            run = timed(cmds[side], envs.get(side, envs["changelens"]))
            run.pop("output")
            runs[side].append(run)
            sys.stderr.write(f"{case.method} {side}: {runs[side][-1]}\n")
    median = {side: statistics.median(r["seconds"] for r in runs[side]) for side in sides}
    fastest = min(("raster_calculator", "gdal_calc"), key=lambda s: median[s])
    pairs = [
        o["seconds"] / min(r["seconds"], g["seconds"])
        for o, r, g in zip(runs["changelens"], runs["raster_calculator"], runs["gdal_calc"])
    ]
    result = {
        "note": case.note,
        "runs": runs,
        "median_s": median,
        "fastest_calculator": fastest,
        "vs_fastest_calculator_ratio": round(median["changelens"] / median[fastest], 3),
        "median_pair_ratio": round(statistics.median(pairs), 3),
        "vs_raster_calculator_ratio": round(median["changelens"] / median["raster_calculator"], 3),
        "vs_gdal_calc_ratio": round(median["changelens"] / median["gdal_calc"], 3),
        "changelens_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["changelens"]),
        "goal": {"ratio": GOAL_RATIO, "peak_rss_mb": GOAL_PEAK_MB},
    }
    result["meets_goal"] = (
        result["vs_fastest_calculator_ratio"] <= GOAL_RATIO and result["changelens_peak_rss_mb"] <= GOAL_PEAK_MB
    )
    if "changelens_no_mmu" in runs:
        result["no_mmu_vs_fastest_calculator_ratio"] = round(median["changelens_no_mmu"] / median[fastest], 3)
        result["changelens_no_mmu_peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs["changelens_no_mmu"])
    if "changelens_before" in runs:
        result["before_vs_fastest_calculator_ratio"] = round(median["changelens_before"] / median[fastest], 3)
        result["after_vs_before_ratio"] = round(median["changelens"] / median["changelens_before"], 3)
        result["changelens_before_peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs["changelens_before"])
    result["output_sizes"] = sizes(case, outs, work)
    return result


def sizes(case: Case, outs: dict[str, Path], work: Path) -> dict[str, dict]:
    """Bytes of each ChangeLens output, of the same pixels with the previous creation options, and of the
    older checkout's file when it ran."""
    found = {}
    for _param, key in case.params[2:]:
        path = outs["changelens"] / f"{case.method}_{key}.tif"
        new, old = path.stat().st_size, old_size(path, work)
        entry = {"bytes": new, "previous_deflate_bytes": old, "size_vs_previous_ratio": round(new / old, 3)}
        earlier = outs.get("changelens_before", Path("-")) / path.name
        if earlier.exists():
            entry["before_bytes"] = earlier.stat().st_size
            entry["size_vs_before_ratio"] = round(new / earlier.stat().st_size, 3)
        found[key] = entry
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default=str(ROOT / "build" / "bench-data"), help="scenes are kept here")
    parser.add_argument("--only", default="", help="comma-separated method ids")
    parser.add_argument("--compare-root", default="", help="an older checkout, measured in the same run as a side")
    parser.add_argument("--key", default="methods", help="JSON key to write")
    parser.add_argument("--without-mmu", action="store_true", help="also ChangeLens with MIN_AREA_PIXELS=0 (no sieve)")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    envs = {"changelens": plugin_env(work, "changelens")}
    if args.compare_root:
        envs["changelens_before"] = plugin_env(work, "before", Path(args.compare_root))
    only = {m for m in args.only.split(",") if m}
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_1_5_15_before": os.getloadavg()},
        "raster_px": f"{args.size}x{args.size}",
        "repeats": args.repeats,
        "compared_with": str(Path(args.compare_root).resolve()) if args.compare_root else None,
        "commands": {c.method: commands(c, {"before": "BEFORE.tif", "after": "AFTER.tif"}, Path("OUT")) for c in CASES},
    }
    for case in CASES:
        if not only or case.method in only:
            result[case.method] = run_case(case, args, envs, work)
    result["machine"]["load_avg_1_5_15_after"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() and out.stat().st_size else {}
    data[args.key] = {**data.get(args.key, {}), **result} if only else result  # --only adds to earlier cases
    out.write_text(json.dumps(data, indent=2))
    for case in CASES:
        r = result.get(case.method)
        if r:
            m = r["median_s"]
            sys.stdout.write(
                f"{case.method:13s} changelens {m['changelens']:6.1f} s  raster calc {m['raster_calculator']:6.1f} s  "
                f"gdal_calc {m['gdal_calc']:6.1f} s  ratio {r['vs_fastest_calculator_ratio']:.2f}  "
                f"peak {r['changelens_peak_rss_mb']:.0f} MB\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
