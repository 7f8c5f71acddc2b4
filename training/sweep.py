"""Run many ``train.py`` jobs side by side (held-out folds, recipe variants) and pool their scores.

Used to validate recipes on a GPU machine where one CPU run per fold would take hours here; the
recipes themselves (steps, batch, patch, widths, seed) are the ones ``make models`` runs on CPU.

python training/sweep.py --jobs training/sweep_jobs.json --out /tmp/sweep --parallel 14 --device cuda
Writes ``summary.json`` (per variant: pooled F1/IoU over its folds at each threshold, per-fold F1,
train seconds) and copies every run folder (weights, config, result) under ``OUT/runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def expand(spec: dict) -> list[dict]:
    """One job per fold: ``folds`` is a list of held-out group lists ([] = train on everything)."""
    jobs = []
    for i, holdout in enumerate(spec.get("folds", [[]])):
        tag = f"{spec['variant']}_f{i}" if len(spec.get("folds", [[]])) > 1 else spec["variant"]
        args = [
            "--task",
            spec["task"],
            "--tag",
            tag,
            "--steps",
            str(spec["steps"]),
            "--seed",
            str(spec.get("seed", 1)),
            "--threads",
            "1",
        ]
        args += ["--holdout", ",".join(holdout)] if holdout else ["--no-eval"]
        args += [str(a) for a in spec.get("args", [])]
        jobs.append({"variant": spec["variant"], "task": spec["task"], "tag": tag, "args": args})
    return jobs


def held_out(spec: dict) -> bool:
    return any(spec.get("folds", [[]]))


def pool(results: list[dict]) -> dict:
    out: dict[str, object] = {"folds": len(results)}
    for thr in THRESHOLDS:
        tot = [0, 0, 0]
        for r in results:
            for k, v in enumerate(r.get(f"counts@{thr}", [0, 0, 0])):
                tot[k] += v
        tp, fp, fn = tot
        out[f"f1@{thr}"] = round(2 * tp / max(1, 2 * tp + fp + fn), 4)
        out[f"iou@{thr}"] = round(tp / max(1, tp + fp + fn), 4)
    steps = sorted({h["step"] for r in results for h in r.get("history", [])})
    for step in steps:  # pooled scores of the same runs part-way through training
        tot = [0, 0, 0]
        for r in results:
            for h in r.get("history", []):
                if h["step"] == step:
                    tot = [a + b for a, b in zip(tot, h["counts@0.5"])]
        out[f"f1@0.5_step{step}"] = round(2 * tot[0] / max(1, 2 * tot[0] + tot[1] + tot[2]), 4)
    out["per_fold_f1@0.5"] = {",".join(r["holdout"]): r.get("pooled_f1@0.5") for r in results}
    out["train_s"] = [r.get("train_s") for r in results]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--deadline-s", type=float, default=1e9, help="stop launching and kill jobs after this")
    args = ap.parse_args()
    specs = json.loads(Path(args.jobs).read_text())
    queue = [j for s in specs for j in expand(s)]
    out = Path(args.out)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    t0 = time.time()
    running: list[tuple[dict, subprocess.Popen]] = []
    while queue or running:
        while queue and len(running) < args.parallel and time.time() - t0 < args.deadline_s:
            job = queue.pop(0)
            log = open(out / "logs" / f"{job['tag']}.log", "w")  # noqa: SIM115 (closed with the process)
            cmd = [sys.executable, str(HERE / "train.py"), *job["args"], "--device", args.device]
            running.append((job, subprocess.Popen(cmd, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT)))
        time.sleep(2)
        for job, proc in list(running):
            if proc.poll() is not None:
                running.remove((job, proc))
            elif time.time() - t0 > args.deadline_s:
                proc.kill()
                running.remove((job, proc))
        if not running and time.time() - t0 > args.deadline_s:
            break
    summary: dict[str, object] = {"wall_s": round(time.time() - t0, 1), "not_run": [j["tag"] for j in queue]}
    best: dict[str, tuple[float, str]] = {}
    for spec in specs:
        results = []
        for job in expand(spec):
            run = HERE / "runs" / f"{job['task']}_{job['tag']}"
            if (run / "result.json").is_file():
                results.append(json.loads((run / "result.json").read_text()))
                shutil.copytree(run, out / "runs" / run.name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pt"))
        summary[spec["variant"]] = pooled = pool(results) if results else "no finished run"
        if not held_out(spec):  # no held-out score here: keep the weights of every such variant
            copy_weights(expand(spec), out)
        elif results:
            score = max(v for k, v in pooled.items() if k.startswith("f1@0."))
            if score > best.get(spec["task"], (-1.0, ""))[0]:
                best[spec["task"]] = (score, spec["variant"])
    for spec in specs:  # weights of the best held-out variant per task (the machine returns little data)
        if best.get(spec["task"], (0.0, ""))[1] == spec["variant"]:
            copy_weights(expand(spec), out)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


def copy_weights(jobs: list[dict], out: Path) -> None:
    for job in jobs:
        run = HERE / "runs" / f"{job['task']}_{job['tag']}"
        if (run / "weights.pt").is_file():
            shutil.copy(run / "weights.pt", out / "runs" / run.name / "weights.pt")


if __name__ == "__main__":
    main()
