"""The run report: one self-contained HTML page (maps as embedded PNG, histogram as inline SVG).

The page is assembled here without QGIS; the map previews are rendered by the
Processing layer and handed in as PNG bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import os
import uuid
from dataclasses import dataclass
from html import escape
from typing import Sequence

from osgeo import gdal

from ..classes import ClassInfo, ClassScheme
from ..errors import ChangeLensError, OutputError
from ..io.raster import find_band_by_name, open_raster
from ..io.sensors import detect_sensor, find_role


@dataclass(frozen=True)
class Histogram:
    """Pixel counts of the driving measure in equal bins (``edges`` has one more entry than ``counts``)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class ReportContent:
    """Everything the page shows."""

    title: str
    measure_name: str
    scheme: ClassScheme
    rows: tuple[dict, ...]  # per class: class_id, class_name, pixels, area_ha, percent, polygons, mean_measure
    polygonised: tuple[int, ...]
    threshold: float | None = None
    breaks: tuple[float, ...] = ()
    histogram: Histogram | None = None
    maps: tuple[tuple[str, bytes], ...] = ()  # (caption, PNG)
    inputs: tuple[tuple[str, str], ...] = ()
    reading: tuple[tuple[str, str], ...] = ()  # how each input was read (sensor, bands, conversion, no data)
    parameters: tuple[tuple[str, str], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    seconds_classify: float = 0.0
    seconds_outputs: float = 0.0
    polygons_written: bool = False
    created: str = ""


_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2933;font:15px/1.45 "Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#1f2933;color:#fff;padding:22px 36px}
header h1{margin:0;font-size:26px;font-weight:600}
header p{margin:4px 0 0;color:#cbd2d9}
main{max-width:1240px;margin:0 auto;padding:20px 28px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:18px 22px;margin:0 0 18px}
h2{margin:0 0 12px;font-size:18px;font-weight:600;color:#323f4b}
.cards{display:flex;gap:14px;flex-wrap:wrap}
.card{flex:1 1 180px;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:14px 18px}
.card .v{font-size:24px;font-weight:600;color:#102a43}
.card .k{color:#627d98;font-size:13px;text-transform:uppercase;letter-spacing:.04em}
.maps{display:flex;gap:14px;flex-wrap:wrap}
figure{flex:1 1 300px;margin:0;text-align:center}
figure img{width:100%;border:1px solid #d9e2ec;border-radius:4px;image-rendering:auto;background:#fff}
figcaption{color:#486581;font-size:14px;margin-top:4px}
table{border-collapse:collapse;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
th{background:#f0f4f8;color:#334e68;font-weight:600;font-size:13px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;border-top:2px solid #9fb3c8}
tr.bg td{color:#7b8794}
.sw{display:inline-block;width:16px;height:16px;border-radius:3px;vertical-align:-3px;margin-right:8px;
border:1px solid rgba(0,0,0,.35)}
.legend{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0;padding:0;list-style:none}
.legend li{white-space:nowrap}
.note{color:#627d98;font-size:13px}
td.path{font-family:Consolas,"DejaVu Sans Mono",monospace;font-size:13px;word-break:break-all}
footer{color:#7b8794;font-size:12px;text-align:center;margin-top:8px}
"""


def _ha(value: float) -> str:
    return f"{value:,.2f}" if math.isfinite(value) else "unknown"


def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.3f}"


def _swatch(color: str) -> str:
    return f'<span class="sw" style="background:{escape(color)}"></span>'


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _class_of(value: float, breaks: Sequence[float], scheme: ClassScheme) -> ClassInfo | None:
    if len(breaks) != len(scheme.classes) - 1:
        return None
    index = sum(1 for b in breaks if value > b)
    return scheme.classes[index]


def _nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]


def histogram_svg(content: ReportContent, width: int = 1120, height: int = 280) -> str:
    """Bars of the measure's pixel counts (class colours where breaks are known), threshold marked."""
    hist = content.histogram
    if hist is None or not hist.counts or max(hist.counts) == 0:
        return '<p class="note">No valid values of the driving measure.</p>'
    left, right, top, bottom = 64, 16, 26, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = hist.edges[0], hist.edges[-1]
    peak = max(hist.counts)
    x = lambda v: left + (v - lo) / (hi - lo) * plot_w  # noqa: E731
    y = lambda c: top + plot_h - c / peak * plot_h  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for level in _nice_ticks(0, peak, 4):
        if level <= 0 or level != int(level):
            continue
        yy = y(level)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e4e7eb"/>')
        parts.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" fill="#627d98">{level:,.0f}</text>'
        )
    for i, count in enumerate(hist.counts):
        a, b = hist.edges[i], hist.edges[i + 1]
        info = _class_of((a + b) / 2, content.breaks, content.scheme)
        color = info.color if info is not None else "#829ab1"
        parts.append(
            f'<rect x="{x(a) + 0.5:.1f}" y="{y(count):.1f}" width="{max(x(b) - x(a) - 1, 0.5):.1f}" '
            f'height="{plot_h + top - y(count):.1f}" fill="{color}" stroke="rgba(0,0,0,.25)" stroke-width="0.5"/>'
        )
    base = top + plot_h
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#52606d"/>')
    for tick in _nice_ticks(lo, hi):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{base}" y2="{base + 5}" stroke="#52606d"/>')
        parts.append(
            f'<text x="{x(tick):.1f}" y="{base + 18}" text-anchor="middle" font-size="12" fill="#334e68">'
            f"{tick:g}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" font-size="13" fill="#334e68">'
        f"{escape(content.measure_name)}</text>"
    )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" font-size="12" fill="#334e68" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">pixels</text>'
    )
    if content.threshold is not None and lo <= content.threshold <= hi:
        tx = x(content.threshold)
        anchor = "start" if tx < left + plot_w * 0.8 else "end"
        dx = 6 if anchor == "start" else -6
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 8}" y2="{base}" stroke="#d64545" stroke-width="2.5" '
            'stroke-dasharray="7 4"/>'
        )
        parts.append(
            f'<text x="{tx + dx:.1f}" y="{top + 4}" text-anchor="{anchor}" font-size="13" font-weight="600" '
            f'fill="#d64545">threshold {content.threshold:.4g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _summary(content: ReportContent) -> str:
    valid = sum(float(r["area_ha"]) for r in content.rows)
    mapped_rows = [r for r in content.rows if not content.scheme.by_value(int(r["class_id"])).background]
    mapped = sum(float(r["area_ha"]) for r in mapped_rows)
    polygons = sum(int(r["polygons"]) for r in content.rows)
    cards = [
        ("Mapped area", f"{_ha(mapped)} ha", f"{100 * mapped / valid:.1f} % of the area with data" if valid else ""),
        ("Area with data", f"{_ha(valid)} ha", f"{len(content.rows)} classes"),
    ]
    if content.polygons_written:
        cards.append(("Polygons", f"{polygons:,}", "connected regions"))
    total = content.seconds_classify + content.seconds_outputs
    cards.append(("Run time", _duration(total), f"outputs {_duration(content.seconds_outputs)}"))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div>'
            f'<div class="note">{escape(n)}</div></div>'
            for k, v, n in cards
        )
        + "</div>"
    )


def _maps(content: ReportContent) -> str:
    if not content.maps:
        return ""
    figures = "".join(
        f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
        for caption, png in content.maps
    )
    legend = "".join(f"<li>{_swatch(c.color)}{escape(c.name)}</li>" for c in content.scheme.classes)
    return (
        f'<section><h2>Maps</h2><div class="maps">{figures}</div>'
        f'<h2 style="margin-top:16px">Legend</h2><ul class="legend">{legend}</ul></section>'
    )


def _area_table(content: ReportContent) -> str:
    head = (
        "<tr><th>Class</th><th class='n'>Pixels</th><th class='n'>Area (ha)</th><th class='n'>Share</th>"
        f"<th class='n'>Polygons</th><th class='n'>Mean {escape(content.measure_name)}</th></tr>"
    )
    body = []
    for r in content.rows:
        info = content.scheme.by_value(int(r["class_id"]))
        polygonised = info.value in content.polygonised and content.polygons_written
        polys = f"{int(r['polygons']):,}" if polygonised else "–"
        body.append(
            f"<tr class='{'bg' if info.background else ''}'><td>{_swatch(info.color)}{escape(info.name)}</td>"
            f"<td class='n'>{int(r['pixels']):,}</td><td class='n'>{_ha(float(r['area_ha']))}</td>"
            f"<td class='n'>{float(r['percent']):.1f} %</td><td class='n'>{polys}</td>"
            f"<td class='n'>{_num(r.get('mean_measure'))}</td></tr>"
        )
    total_px = sum(int(r["pixels"]) for r in content.rows)
    total_ha = sum(float(r["area_ha"]) for r in content.rows)
    total_poly = sum(int(r["polygons"]) for r in content.rows)
    body.append(
        f"<tr class='total'><td>Total with data</td><td class='n'>{total_px:,}</td><td class='n'>{_ha(total_ha)}</td>"
        f"<td class='n'>100 %</td><td class='n'>{f'{total_poly:,}' if content.polygons_written else '–'}</td>"
        "<td></td></tr>"
    )
    note = (
        '<p class="note">Greyed classes are background (not turned into polygons unless asked). Areas are on the '
        "ground (ellipsoidal for geographic coordinates).</p>"
    )
    return f"<section><h2>Area by class</h2><table>{head}{''.join(body)}</table>{note}</section>"


def _pairs_table(title: str, pairs: Sequence[tuple[str, str]], paths: bool = False) -> str:
    if not pairs:
        return ""
    rows = "".join(
        f"<tr><th style='width:32%'>{escape(k)}</th><td class='{'path' if paths else ''}'>{escape(v)}</td></tr>"
        for k, v in pairs
    )
    return f"<section><h2>{escape(title)}</h2><table>{rows}</table></section>"


def build_report(content: ReportContent) -> str:
    """The complete HTML page."""
    created = content.created or dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    hist_title = f"Histogram of {escape(content.measure_name)}" if content.measure_name else "Histogram"
    threshold = f" (threshold {content.threshold:.4g})" if content.threshold is not None else ""
    histogram = (
        f"<section><h2>{hist_title}{escape(threshold)}</h2>{histogram_svg(content)}</section>"
        if content.histogram is not None
        else ""
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(content.title)} – ChangeLens report</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(content.title)}</h1><p>ChangeLens report · {escape(created)} · run time "
        f"{_duration(content.seconds_classify + content.seconds_outputs)}</p></header><main>"
        f"<section>{_summary(content)}</section>"
        f"{_maps(content)}{_area_table(content)}{histogram}"
        f"{_pairs_table('Inputs', content.inputs, paths=True)}"
        f"{_pairs_table('How the inputs were read', content.reading) if content.reading else ''}"
        f"{_pairs_table('Parameters', content.parameters)}"
        f"{_pairs_table('Outputs', content.outputs, paths=True)}"
        "<footer>Made with ChangeLens for QGIS. Check results against imagery before acting on them.</footer>"
        "</main></body></html>\n"
    )


def write_report(path: str, html: str) -> None:
    """Write the page atomically (temporary name, then rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"The output folder '{folder}' does not exist.")
    temp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.replace(temp, path)
    except OSError as exc:
        if os.path.exists(temp):
            os.remove(temp)
        raise OutputError(f"Cannot write the report '{path}': {exc}") from exc


def preview_source(path: str, folder: str, name: str) -> str | None:
    """A VRT view of ``path`` in ``folder`` for the map renderer, so that statistics it computes
    (``.aux.xml``) land in ``folder`` and never next to the user's input file; None if unreadable."""
    target = os.path.join(folder, f"{name}.vrt")
    try:
        gdal.Translate(target, path, format="VRT")
    except RuntimeError:
        return None
    return target


def display_bands(path: str) -> tuple[int, ...] | None:
    """Bands for a readable preview: true colour (red, green, blue), else SWIR2/NIR/red false colour,
    else one band (NIR, else the first) in grey; None when the file cannot be read."""
    try:
        ds = open_raster(path)
    except ChangeLensError:
        return None
    tci = tuple(find_band_by_name(ds, name) for name in ("TCI_R", "TCI_G", "TCI_B"))
    if all(tci):
        return tci  # type: ignore[return-value]
    profile = detect_sensor(ds)
    for roles in (("red", "green", "blue"), ("swir2", "nir", "red"), ("nir",)):
        try:
            return tuple(find_role(ds, profile, role, None, "image") for role in roles)
        except ChangeLensError:
            continue
    return (1,)
