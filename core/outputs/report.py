"""The run report: one self-contained HTML page (maps as embedded PNG, drawings as inline SVG).

The page is assembled here without QGIS; the maps are rendered by the Processing layer and
handed in as PNG bytes (the result map with the geometry of its furniture, :class:`MapFigure`).
What the page says about the place and the images comes from :mod:`.report_facts`.
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

from ..classes import ClassInfo, ClassScheme
from ..errors import OutputError
from .report_facts import ImageFacts, Location
from .report_svg import Histogram, MapFigure, histogram_svg, map_figure_svg

__all__ = ["Histogram", "MapFigure", "ReportContent", "build_report", "class_label", "write_report"]


@dataclass(frozen=True)
class ReportContent:
    """Everything the page shows.

    ``title`` is the event title, ``subtitle`` the method that made the map; ``maps`` are the
    before/after previews ``(caption, PNG)``; ``result_map`` the large result map.
    """

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
    subtitle: str = ""
    images: tuple[ImageFacts, ...] = ()
    location: Location | None = None
    result_map: MapFigure | None = None


_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2933;font:15px/1.45 "Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#1f2933;color:#fff;padding:22px 36px}
header h1{margin:0;font-size:26px;font-weight:600}
header p{margin:4px 0 0;color:#cbd2d9}
header p.method{color:#e4e7eb;font-size:17px}
main{max-width:1240px;margin:0 auto;padding:20px 28px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:18px 22px;margin:0 0 18px}
h2{margin:0 0 12px;font-size:18px;font-weight:600;color:#323f4b}
.cards{display:flex;gap:14px;flex-wrap:wrap}
.card{flex:1 1 180px;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:14px 18px}
.card .v{font-size:24px;font-weight:600;color:#102a43}
.card .k{color:#627d98;font-size:13px;text-transform:uppercase;letter-spacing:.04em}
.maps{display:flex;gap:14px;flex-wrap:wrap}
figure{flex:1 1 300px;margin:0;text-align:center}
.maps figure{max-width:calc(50% - 7px)}
figure.result{flex:1 1 100%}
figure.result svg{display:block;width:100%;height:auto}
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


def class_label(info: ClassInfo) -> str:
    """A class name as the page shows it (first letter capital: model metadata often has lower case)."""
    return info.name[:1].upper() + info.name[1:]


def _legend(content: ReportContent) -> str:
    items = "".join(f"<li>{_swatch(c.color)}{escape(class_label(c))}</li>" for c in content.scheme.classes)
    return f'<h2 style="margin-top:16px">Legend</h2><ul class="legend" id="legend">{items}</ul>'


def _result_map(content: ReportContent) -> str:
    figure = content.result_map
    if figure is None:
        return f"<section><h2>Result map</h2>{_legend(content)}</section>" if content.rows else ""
    return (
        f'<section><h2>Result map</h2><figure class="result">{map_figure_svg(figure)}'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>{_legend(content)}</section>"
    )


def _previews(content: ReportContent) -> str:
    if not content.maps:
        return ""
    figures = "".join(
        f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
        for caption, png in content.maps
    )
    title = "Before and after" if len(content.maps) > 1 else "The image"
    return f'<section><h2>{title}</h2><div class="maps">{figures}</div></section>'


def _where_and_when(content: ReportContent) -> str:
    rows = []
    place = content.location
    if place is not None:
        rows += [("Centre", place.centre_text()), ("Extent", place.extent_text()), ("Map CRS", place.crs)]
    location = "".join(f"<tr><th style='width:32%'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    images = "".join(
        f"<tr><td>{escape(i.label[:1].upper() + i.label[1:])}</td><td class='path'>{escape(i.file_name)}</td>"
        f"<td>{escape(i.sensor or 'not known')}</td><td class='date'>{escape(i.acquired or 'not known')}</td>"
        f"<td class='note'>{escape(i.size)}</td></tr>"
        for i in content.images
    )
    if not rows and not images:
        return ""
    head = "<tr><th>Image</th><th>File</th><th>Sensor / product</th><th>Acquired</th><th>Size</th></tr>"
    return (
        f'<section id="where-and-when"><h2>Where and when</h2><table>{location}</table>'
        f'<table style="margin-top:12px">{head}{images}</table>'
        '<p class="note">Acquisition dates and products are read from the product metadata and the file names; '
        "“not known” means neither states them.</p></section>"
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
            f"<tr class='{'bg' if info.background else ''}'><td>{_swatch(info.color)}{escape(class_label(info))}</td>"
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
        f"<tr><th style='width:32%'>{escape(k[:1].upper() + k[1:])}</th>"
        f"<td class='{'path' if paths else ''}'>{escape(v)}</td></tr>"
        for k, v in pairs
    )
    return f"<section><h2>{escape(title)}</h2><table>{rows}</table></section>"


def build_report(content: ReportContent) -> str:
    """The complete HTML page."""
    created = content.created or dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    hist_title = f"Histogram of {escape(content.measure_name)}" if content.measure_name else "Histogram"
    threshold = f" (threshold {content.threshold:.4g})" if content.threshold is not None else ""
    drawn = histogram_svg(content.histogram, content.measure_name, content.scheme, content.breaks, content.threshold)
    histogram = f"<section><h2>{hist_title}{escape(threshold)}</h2>{drawn}</section>" if content.histogram else ""
    method = f"<p class='method'>{escape(content.subtitle)}</p>" if content.subtitle else ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(content.title)} – ChangeLens report</title><style>{_CSS}</style></head><body>"
        f"<header><h1 id='title'>{escape(content.title)}</h1>{method}<p>ChangeLens report · {escape(created)} · "
        f"run time {_duration(content.seconds_classify + content.seconds_outputs)}</p></header><main>"
        f"<section>{_summary(content)}</section>"
        f"{_where_and_when(content)}{_result_map(content)}{_previews(content)}{_area_table(content)}{histogram}"
        f"{_pairs_table('Bands, conversions and masks used', content.reading)}"
        f"{_pairs_table('Parameters', content.parameters)}"
        f"{_pairs_table('Inputs', content.inputs, paths=True)}"
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
