"""`make eval DATA=<root> OUT=<file.json>`: score ChangeLens algorithms on every labelled case under DATA.

Every row runs a Processing algorithm through ``processing.run`` in a standalone
QGIS application (the same code path as the toolbox and qgis_process); pixel
counts are pooled over all cases of a dataset, no data excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from eval.cards import training_cases  # noqa: E402
from eval.datasets import Dataset, discover  # noqa: E402
from eval.landslide_scenes import PATH as LANDSLIDE_PATH  # noqa: E402
from eval.landslide_scenes import landslide_dataset  # noqa: E402
from eval.methods import METHODS, SKIPS, Method  # noqa: E402
from eval.scoring import Counts, score_case  # noqa: E402
from eval.vegetation_scenes import PATH as VEGETATION_PATH  # noqa: E402
from eval.vegetation_scenes import vegetation_dataset  # noqa: E402


def start_qgis():  # noqa: ANN201 - returns the QgsApplication
    """A headless QGIS with Processing and the ChangeLens provider from this working tree."""
    link_dir = ROOT / ".plugin_path"
    link_dir.mkdir(exist_ok=True)
    link = link_dir / "changelens"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(link_dir))
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from changelens.plugin import ChangeLensPlugin

    plugin = ChangeLensPlugin(None)
    plugin.initProcessing()
    app._changelens = plugin  # keep the plugin alive with the app
    return app


def _case_row(name: str, counts: Counts, in_sample: bool | None, seconds: float) -> dict[str, object]:
    row: dict[str, object] = {"case": name, **counts.metrics(), "tp": counts.tp, "fp": counts.fp}
    row.update({"fn": counts.fn, "tn": counts.tn, "seconds": round(seconds, 2)})
    if in_sample is not None:
        row["in_sample"] = in_sample
    return row


def in_sample_note(method: Method, per_case: list[dict[str, object]]) -> str:
    """Which scored cases the model's card lists as training cases (none for index methods)."""
    if not method.card:
        return ""
    inside = [str(c["case"]) for c in per_case if c.get("in_sample")]
    if method.held_out:
        return f"held-out fold models: no case was in the training set of the model that scored it ({method.card})"
    if not inside:
        return f"out-of-sample: no scored case is in models/{method.card}.md's training_cases"
    if len(inside) == len(per_case):
        return f"in-sample: all {len(per_case)} cases are in {method.card}'s card training_cases"
    return f"in-sample on {len(inside)} of {len(per_case)} cases ({', '.join(inside)}; {method.card}'s card)"


def run_method(dataset: Dataset, method: Method, work_root: Path) -> dict[str, object]:
    """Run one method on every case of a dataset; pool the counts and keep every case's own row."""
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    import processing

    counts = Counts()
    seconds = 0.0
    scored = failed = 0
    first_error = ""
    per_case: list[dict[str, object]] = []
    trained = training_cases(method.card) if method.card else set()
    for case in dataset.cases:
        work = Path(tempfile.mkdtemp(dir=work_root))
        try:
            params = method.params(case, work)
            if params is None:
                continue
            context = QgsProcessingContext()
            started = time.monotonic()
            result = processing.run(method.algorithm, params, context=context, feedback=QgsProcessingFeedback())
            took = time.monotonic() - started
            seconds += took
            mine = Counts()
            score_case(result[method.output], case.label, method.positive, case.positive, case.ignore, mine)
            for key in ("tp", "fp", "fn", "tn"):
                setattr(counts, key, getattr(counts, key) + getattr(mine, key))
            case_id = f"{dataset.path}/{case.name}"
            in_sample = (case_id in trained and not method.held_out) if method.card else None
            per_case.append(_case_row(case.name, mine, in_sample, took))
            scored += 1
        except Exception as exc:  # noqa: BLE001 - a failing case is reported, the eval goes on
            failed += 1
            first_error = first_error or f"{case.name}: {exc}"
        finally:
            shutil.rmtree(work, ignore_errors=True)
    row: dict[str, object] = {
        "dataset": dataset.path,
        "method": method.name,
        "default": method.default,
        "cases": scored,
        **counts.metrics(),
        "seconds": round(seconds, 2),
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "tn": counts.tn,
    }
    if failed:
        row["failed"] = failed
        row["first_error"] = first_error
    notes = [n for n in (method.note, in_sample_note(method, per_case) if per_case else "") if n]
    if notes:
        row["note"] = "; ".join(notes)
    row["per_case"] = per_case
    return row


def source_dnbr_row(dataset: Dataset) -> dict[str, object] | None:
    """Reference row for post-only fires: the data source's own dNBR > 0.1 (not a ChangeLens run)."""
    import numpy as np
    from osgeo import gdal

    counts = Counts()
    cases = 0
    per_case: list[dict[str, object]] = []
    for case in dataset.cases:
        path = case.inputs.get("dnbr_source")
        if not path:
            continue
        from eval.scoring import label_on_grid

        ds = gdal.Open(path)  # keep the dataset alive while its band is read
        dnbr = ds.GetRasterBand(1).ReadAsArray().astype("float64")
        label, nodata = label_on_grid(case.label, path)
        valid = np.isfinite(dnbr) & ((label != nodata) if nodata is not None else True)
        mine = Counts()
        mine.add(dnbr > 0.1, label == 1, valid)
        counts.add(dnbr > 0.1, label == 1, valid)
        per_case.append(_case_row(case.name, mine, None, 0.0))
        cases += 1
    if not cases:
        return None
    return {
        "dataset": dataset.path,
        "method": "reference:source_dnbr>0.1",
        "default": False,
        "cases": cases,
        **counts.metrics(),
        "seconds": 0.0,
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "tn": counts.tn,
        "note": "the data source's own dNBR thresholded at 0.1 (USGS low severity); scored by the harness, "
        "not a ChangeLens algorithm",
        "per_case": per_case,
    }


def format_table(rows: list[dict[str, object]], max_cases: int = 20) -> str:
    """A fixed-width text table of the rows, each followed by its cases (up to ``max_cases`` of them)."""
    head = f"{'dataset':<28} {'method':<28} {'def':<4} {'cases':>5} {'P':>6} {'R':>6} {'F1':>6} {'IoU':>6} {'sec':>7}"
    lines = [head, "-" * len(head)]

    def f(v: object) -> str:
        return f"{v:6.3f}" if isinstance(v, float) else f"{'-':>6}"

    for r in rows:
        lines.append(
            f"{r['dataset']:<28} {r['method']:<28} {'yes' if r['default'] else '':<4} {r['cases']:>5} "
            f"{f(r['precision'])} {f(r['recall'])} {f(r['f1'])} {f(r['iou'])} {r['seconds']:>7.1f}"
        )
        cases = r.get("per_case", [])
        if len(cases) <= max_cases:  # larger sets: see the JSON
            for c in cases:
                mark = " (in-sample)" if c.get("in_sample") else ""
                lines.append(
                    f"{'':<28}   {str(c['case'])[:26]:<26} {'':<4} {'':>5} "
                    f"{f(c['precision'])} {f(c['recall'])} {f(c['f1'])} {f(c['iou'])} {c['seconds']:>7.1f}{mark}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(ROOT / "build" / "eval.json"))
    parser.add_argument("--only", default="", help="run only datasets whose path contains this text")
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"No data folder at {args.data}: give DATA=<root>.", file=sys.stderr)
        return 2
    app = start_qgis()
    rows: list[dict[str, object]] = []
    skipped: list[dict[str, str]] = []
    work_root = Path(tempfile.mkdtemp(prefix="changelens-eval-"))
    try:
        # Generated held-out sets (no real labelled data of their kind exists) come after the real ones.
        generated = []
        if not args.only or args.only in LANDSLIDE_PATH:
            generated.append(landslide_dataset(args.data, work_root / "landslide_scenes"))
        if not args.only or args.only in VEGETATION_PATH:
            generated.append(vegetation_dataset(args.data, work_root / "vegetation_scenes"))
        for dataset in [*discover(args.data), *(d for d in generated if d is not None)]:
            if args.only and args.only not in dataset.path:
                continue
            methods = [m for m in METHODS if dataset.kind in m.kinds]
            for kind, name, reason in SKIPS:
                if kind == dataset.kind:
                    skipped.append({"dataset": dataset.path, "method": name, "reason": reason})
            for method in methods:
                print(f"{dataset.path}: {method.name} on {len(dataset.cases)} cases ...", file=sys.stderr, flush=True)
                row = run_method(dataset, method, work_root)
                if row.get("cases"):
                    rows.append(row)
                else:  # e.g. a model that is not bundled (training/ rebuilds it) or fold models not trained here
                    reason = (
                        "held-out fold models are not built here (training/validate_*.sh builds them)"
                        if str(row["method"]).endswith((":loeo", ":fold"))
                        else "the model is not bundled in models/ (training/ rebuilds it)"
                    )
                    skipped.append({"dataset": dataset.path, "method": str(row["method"]), "reason": reason})
            if dataset.kind == "burn_postonly":
                ref = source_dnbr_row(dataset)
                if ref:
                    rows.append(ref)
            if not methods and not any(s["dataset"] == dataset.path for s in skipped):
                skipped.append({"dataset": dataset.path, "method": "*", "reason": f"no method for '{dataset.kind}'"})
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    report = {
        "data": str(Path(args.data).resolve()),
        "rows": rows,
        "skipped": skipped,
        "notes": [
            "Pixel counts are pooled over all cases of a dataset; no data in the output or the label is excluded.",
            "Flood rows count 'flooded' and 'permanent water' as water: the labels mark all water after the event.",
            "Default thresholds and filters were chosen on these same sets (they are evaluation sets): the index "
            "rows are in-sample, not held-out estimates.",
            "Every row lists its cases in 'per_case' (the pooled counts are their sums). For model rows, "
            "'in_sample' marks the cases the model card lists in its training_cases (tools/eval/cards.py).",
            f"{LANDSLIDE_PATH} is simulated (training/landslide_sim.py) on backgrounds and seeds that landslide_s2 "
            "never trained on; there is no real labelled landslide data here.",
            f"{VEGETATION_PATH} puts clear-cuts made of real open-ground spectra into real forest of real "
            "Sentinel-2 scenes (tools/eval/vegetation_scenes.py); everything else that differs between the dates "
            "is real.",
        ],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(format_table(rows))
    for s in skipped:
        print(f"skipped {s['dataset']} / {s['method']}: {s['reason']}")
    print(f"wrote {out}")
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
