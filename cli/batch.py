"""``changelens batch JOB``: the pairs of a "Run on many scene pairs" job, here or on a Dask cluster."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.batch_job import PairOutcome, job_inputs, make_job
from ..core.batch_report import mapped_area_ha
from ..core.cluster import run_job
from .methods import UsageError


def add_batch_command(subparsers: Any) -> None:
    """The ``batch`` subcommand."""
    parser = subparsers.add_parser(
        "batch",
        help="Run one method on many scene pairs (a job file), here or on a Dask cluster",
        description=(
            'Runs the job file of \'Run on many scene pairs\' ({"inputs": {"INPUT_FOLDER" or "PAIR_LIST", '
            '"ALGORITHM", "PARAMETERS", "OUTPUT_FOLDER", "OUTPUT_SUMMARY"}}; relative paths are relative '
            "to the job file) with a ChangeLens index method. Each pair's outputs go to <output folder>/<pair>/, "
            "with summary.csv (one row per pair and class) and job_report.html beside them. A pair that fails is "
            "a 'failed' row; the others still run. Pairs whose outputs are complete are skipped, so a job "
            "interrupted or partly failed can simply be run again. Without --scheduler or --workers the pairs "
            "run one after another in this process."
        ),
    )
    parser.add_argument("job", metavar="JOB", help="The job file (JSON).")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="A running Dask scheduler, e.g. tcp://host:8786 (workers: 'dask worker ADDRESS --nthreads 1', "
        "with ChangeLens installed where they run and the data on paths they can read).",
    )
    where.add_argument("--workers", type=int, metavar="N", help="Start a local Dask cluster of N worker processes.")
    parser.add_argument("--output-folder", metavar="DIR", help="Overrides OUTPUT_FOLDER of the job file.")
    parser.add_argument("--json", action="store_true", help="Print the outcome of every pair as JSON.")
    parser.add_argument("--quiet", "-q", action="store_true", help="No progress bar and no per-pair lines.")
    parser.set_defaults(command=run_batch_command)


def _bar(total: int, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="Pairs", unit="pair", file=sys.stderr)


def run_batch_command(args: argparse.Namespace) -> int:
    """Run the job; exit code 0 when at least one pair is done, 1 when none is."""
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more.")
    inputs = job_inputs(args.job)
    if args.output_folder:
        inputs["OUTPUT_FOLDER"] = args.output_folder
    job = make_job(inputs)
    scheduler = args.scheduler or ("" if args.workers else job.scheduler)
    bar = _bar(len(job.pairs), args.quiet)
    stream = sys.stderr if args.json else sys.stdout  # with --json, stdout holds the JSON only
    say = (
        (lambda text: None) if args.quiet else (bar.write if bar is not None else lambda text: print(text, file=stream))
    )

    def done(outcome: PairOutcome, count: int, total: int) -> None:
        if outcome.status == "ok":
            area = mapped_area_ha(job.method_id, outcome.classes)
            how = "complete before, skipped" if outcome.reused else f"{outcome.seconds:.1f} s on {outcome.worker}"
            say(f"[{count}/{total}] {outcome.name}: ok ({how}), mapped {area:.2f} ha")
        else:
            say(f"[{count}/{total}] {outcome.name}: FAILED: {outcome.error}")
        if bar is not None:
            bar.update(1)

    say(f"{len(job.pairs)} pair(s) with changelens:{job.method_id}; outputs under {job.output_folder}.")
    try:
        result = run_job(job, scheduler, args.workers or 0, done, say)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps([o.__dict__ for o in result.outcomes], indent=1, default=str))
    failed = len(result.outcomes) - result.succeeded
    say(
        f"{result.succeeded} pair(s) done ({result.skipped} complete before), {failed} failed, in "
        f"{result.seconds:.1f} s on {result.workers} worker(s). Summary: {result.summary_csv}; report: {result.report}"
    )
    return 0 if result.succeeded else 1
