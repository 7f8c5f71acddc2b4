"""`make demo`: generate the seeded scene, run every ChangeLens algorithm with qgis_process.bin,
and write the rasters, polygons, area tables, HTML reports (and one PDF report), a styled QGIS
project and a PNG rendering of it to demo-output/; it ends with the list of what it wrote."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import scene  # noqa: E402
from qgis_process_runner import enable_plugin, environment, run_algorithm  # noqa: E402


def plugin_path() -> Path:
    """A folder holding this working tree as the plugin ``changelens`` (for QGIS_PLUGINPATH)."""
    folder = ROOT / ".plugin_path"
    folder.mkdir(exist_ok=True)
    link = folder / "changelens"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    return folder


def runs(inputs: dict[str, str], out: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(title, algorithm, parameters) of every demo run."""
    s2 = {"BEFORE": inputs["s2_before"], "AFTER": inputs["s2_after"]}
    return [
        (
            "Burn severity (dNBR)",
            "changelens:burnseverity",
            {
                "PRE": inputs["s2_before"],
                "POST": inputs["s2_after"],
                "OUTPUT_DNBR": str(out / "burn_dnbr.tif"),
                "OUTPUT_SEVERITY": str(out / "burn_severity.tif"),
            },
        ),
        (
            "Flood from Sentinel-1",
            "changelens:sarflood",
            {
                "BEFORE": inputs["s1_before"],
                "AFTER": inputs["s1_after"],
                "DEM": inputs["dem"],
                "OUTPUT": str(out / "flood_s1.tif"),
                "OUTPUT_MEASURE": str(out / "flood_s1_logratio.tif"),
            },
        ),
        (
            "Flood from Sentinel-2 (MNDWI)",
            "changelens:opticalflood",
            {**s2, "OUTPUT": str(out / "flood_optical.tif"), "OUTPUT_INDEX": str(out / "mndwi_after.tif")},
        ),
        (
            "New landslides",
            "changelens:landslide",
            {
                **s2,
                "DEM": inputs["dem"],
                "OUTPUT": str(out / "landslide.tif"),
                "OUTPUT_NDVI_DROP": str(out / "ndvi_drop.tif"),
            },
        ),
        (
            "Change vectors (all shared bands)",
            "changelens:cva",
            {
                "DATE1": inputs["s2_before"],
                "DATE2": inputs["s2_after"],
                "OUTPUT": str(out / "change_cva.tif"),
                "OUTPUT_MAGNITUDE": str(out / "cva_magnitude.tif"),
            },
        ),
    ]


def with_map_outputs(name: str, params: dict[str, str], out: Path, pdf: bool = False) -> dict[str, str]:
    """Add the shared polygons, area table and HTML report (and PDF report) of one run, named after ``name``."""
    extra = {"OUTPUT_REPORT_PDF": str(out / f"{name}_report.pdf")} if pdf else {}
    return {
        **params,
        "OUTPUT_POLYGONS": str(out / f"{name}_polygons.gpkg"),
        "OUTPUT_STATS": str(out / f"{name}_areas.csv"),
        "OUTPUT_REPORT": str(out / f"{name}_report.html"),
        "EVENT_TITLE": f"ChangeLens demo scene · {name}",
        **extra,
    }


def summary(results: dict) -> str:
    """``12.34 ha mapped, 5 polygons`` from a run's results."""
    parts = []
    if results.get("MAPPED_AREA_HA") is not None:
        parts.append(f"{float(results['MAPPED_AREA_HA']):,.2f} ha mapped")
    count = int(results.get("POLYGON_COUNT") or 0)
    if count:
        parts.append(f"{count} polygon{'s' if count != 1 else ''}")
    return ", ".join(parts)


def written(out: Path, extra: list[Path]) -> str:
    """The closing list: reports, project and rendering by name, everything else counted."""
    files = sorted(p for p in out.rglob("*") if p.is_file())
    shown = [p for p in files if p.suffix in (".html", ".pdf")] + [p for p in extra if p.exists()]
    rest = [p for p in files if p not in shown and "inputs" not in p.relative_to(out).parts]
    inputs = [p for p in files if "inputs" in p.relative_to(out).parts]
    lines = [f"Files written in {out}:"] + [f"  {p.relative_to(out)}" for p in shown]
    lines.append(f"  ... and {len(rest)} rasters, polygons, tables and styles; {len(inputs)} input files in inputs/")
    return "\n".join(lines)


def run_all(inputs: dict[str, str], out: Path) -> list[tuple[str, str]]:
    """Run every algorithm through qgis_process.bin; returns (title, class raster) pairs."""
    profile = Path(tempfile.mkdtemp(prefix="changelens-demo-profile-"))
    try:
        env = environment(profile, plugin_path())
        enable_plugin(env)
        done = []
        for index, (title, algorithm, params) in enumerate(runs(inputs, out)):
            params = with_map_outputs(algorithm.split(":")[1], params, out, pdf=index == 0)
            started = time.monotonic()
            code, payload, log = run_algorithm(env, algorithm, params)
            if code != 0 or payload is None:
                raise SystemExit(f"{algorithm} failed:\n{log}")
            print(f"{title}: {summary(payload['results'])} ({time.monotonic() - started:.1f} s)")
            key = "OUTPUT_SEVERITY" if "OUTPUT_SEVERITY" in params else "OUTPUT"
            done.append((title, payload["results"][key]))
        return done
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "demo-output"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    started = time.monotonic()
    inputs = scene.generate(out / "inputs", args.seed)
    print(f"Scene generated (seed {args.seed}) in {out / 'inputs'}")
    results = run_all(inputs, out)
    from project import build_project

    qgz, png = build_project(inputs, results, out)
    print(f"Done in {time.monotonic() - started:.0f} s.\n{written(out, [Path(qgz), Path(png)])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
