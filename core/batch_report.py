"""The job report of a many-pairs run: one HTML page with the areas, timings and failures of every pair."""

from __future__ import annotations

import os
from html import escape
from typing import TYPE_CHECKING, Sequence

from .methods import method_by_id
from .outputs.report import _CSS, write_report
from .runner import created_now

if TYPE_CHECKING:
    from .batch_job import Job, PairOutcome


def mapped_area_ha(method_id: str, classes: Sequence[dict]) -> float:
    """Hectares of the mapped (non-background) classes in a pair's class rows."""
    scheme = method_by_id(method_id).scheme
    mapped = set(scheme.mapped_values)
    return sum(float(r.get("area_ha") or 0) for r in classes if int(r.get("class_id", -1)) in mapped)


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def job_report_html(job: Job, outcomes: Sequence[PairOutcome], seconds: float, workers: int) -> str:
    """The page: totals, then one row per pair (status, mapped area, seconds, worker, report link, error)."""
    method = method_by_id(job.method_id)
    ok = [o for o in outcomes if o.status == "ok"]
    failed = [o for o in outcomes if o.status != "ok"]
    reused = [o for o in ok if o.reused]
    total = sum(mapped_area_ha(job.method_id, o.classes) for o in ok)
    cards = (
        ("Pairs done", f"{len(ok)} of {len(outcomes)}", f"{len(reused)} complete before this run" if reused else ""),
        ("Failed", str(len(failed)), "see the table below" if failed else ""),
        ("Mapped area", f"{total:,.2f} ha", "all pairs, background classes excluded"),
        ("Wall time", _duration(seconds), f"{workers} worker(s)"),
    )
    card_html = "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div>'
        f'<div class="note">{escape(n)}</div></div>'
        for k, v, n in cards
    )
    rows = []
    for o in outcomes:
        report = os.path.join(o.folder, "report.html") if o.folder else ""
        link = (
            f'<a href="{escape(os.path.relpath(report, job.output_folder))}">report</a>'
            if report and os.path.isfile(report)
            else ""
        )
        status = "ok (complete before)" if o.reused else o.status
        area = f"{mapped_area_ha(job.method_id, o.classes):,.2f}" if o.status == "ok" else "–"
        rows.append(
            f"<tr class='{'' if o.status == 'ok' else 'bg'}'><td>{escape(o.name)}</td><td>{escape(status)}</td>"
            f"<td class='n'>{area}</td><td class='n'>{o.seconds:.1f}</td><td>{escape(o.worker)}</td>"
            f"<td>{link}</td><td>{escape(o.error)}</td></tr>"
        )
    head = (
        "<tr><th>Pair</th><th>Status</th><th class='n'>Mapped area (ha)</th><th class='n'>Seconds</th>"
        "<th>Worker</th><th>Report</th><th>Error</th></tr>"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(method.title)} – ChangeLens job report</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(method.title)} on {len(outcomes)} scene pairs</h1>"
        f"<p>ChangeLens job report · {escape(created_now())} · outputs in {escape(job.output_folder)}</p></header>"
        f"<main><section><div class='cards'>{card_html}</div></section>"
        f"<section><h2>Pairs</h2><table>{head}{''.join(rows)}</table>"
        "<p class='note'>Seconds of a pair complete before this run are those of the run that made it. The area "
        "per class of every pair is in summary.csv.</p></section>"
        "<footer>Made with ChangeLens. Check results against imagery before acting on them.</footer>"
        "</main></body></html>\n"
    )


def write_job_report(path: str, job: Job, outcomes: Sequence[PairOutcome], seconds: float, workers: int) -> None:
    """Write the job report (atomically)."""
    write_report(path, job_report_html(job, outcomes, seconds, workers))
