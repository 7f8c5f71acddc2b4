"""The report's drawings as SVG: the histogram of the driving measure and the result map's furniture.

Both pages use them: the HTML page inlines the SVG, the PDF renders the same SVG with QtSvg, so
the scale bar, north arrow and coordinate ticks are drawn once, in one place.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

from ..classes import ClassInfo, ClassScheme


@dataclass(frozen=True)
class Histogram:
    """Pixel counts of the driving measure in equal bins (``edges`` has one more entry than ``counts``)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class MapFigure:
    """The result map (PNG) placed in a figure with its furniture, all in figure pixels.

    ``map_box`` is ``(x, y, width, height)`` of the map image; ``ticks`` are ``(side, offset,
    label)`` with side ``"bottom"`` or ``"left"`` and the offset along that side of the map;
    ``scale_px``/``scale_label`` the scale bar (``scale_segments`` alternating parts);
    ``north_deg`` the direction of true north, clockwise from straight up.
    """

    png: bytes
    width: int
    height: int
    map_box: tuple[int, int, int, int]
    ticks: tuple[tuple[str, float, str], ...] = ()
    scale_px: float = 0.0
    scale_label: str = ""
    scale_segments: int = 4
    north_deg: float = 0.0
    caption: str = ""


def _class_of(value: float, breaks: Sequence[float], scheme: ClassScheme) -> ClassInfo | None:
    if len(breaks) != len(scheme.classes) - 1:
        return None
    index = sum(1 for b in breaks if value > b)
    return scheme.classes[index]


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round values from ``lo`` to ``hi``, about ``count`` of them."""
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]


def histogram_svg(
    hist: Histogram | None,
    measure_name: str,
    scheme: ClassScheme,
    breaks: Sequence[float] = (),
    threshold: float | None = None,
    width: int = 1120,
    height: int = 280,
) -> str:
    """Bars of the measure's pixel counts (class colours where breaks are known), threshold marked."""
    if hist is None or not hist.counts or max(hist.counts) == 0:
        return '<p class="note">No valid values of the driving measure.</p>'
    left, right, top, bottom = 64, 16, 26, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = hist.edges[0], hist.edges[-1]
    peak = max(hist.counts)
    x = lambda v: left + (v - lo) / (hi - lo) * plot_w  # noqa: E731
    y = lambda c: top + plot_h - c / peak * plot_h  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for level in nice_ticks(0, peak, 4):
        if level <= 0 or level != int(level):
            continue
        yy = y(level)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e4e7eb"/>')
        parts.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" fill="#627d98">{level:,.0f}</text>'
        )
    for i, count in enumerate(hist.counts):
        a, b = hist.edges[i], hist.edges[i + 1]
        info = _class_of((a + b) / 2, breaks, scheme)
        color = info.color if info is not None else "#829ab1"
        parts.append(
            f'<rect x="{x(a) + 0.5:.1f}" y="{y(count):.1f}" width="{max(x(b) - x(a) - 1, 0.5):.1f}" '
            f'height="{plot_h + top - y(count):.1f}" fill="{color}" stroke="rgba(0,0,0,.25)" stroke-width="0.5"/>'
        )
    base = top + plot_h
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#52606d"/>')
    for tick in nice_ticks(lo, hi):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{base}" y2="{base + 5}" stroke="#52606d"/>')
        parts.append(
            f'<text x="{x(tick):.1f}" y="{base + 18}" text-anchor="middle" font-size="12" fill="#334e68">'
            f"{tick:g}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" font-size="13" fill="#334e68">'
        f"{escape(measure_name)}</text>"
    )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" font-size="12" fill="#334e68" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">pixels</text>'
    )
    if threshold is not None and lo <= threshold <= hi:
        tx = x(threshold)
        anchor = "start" if tx < left + plot_w * 0.8 else "end"
        dx = 6 if anchor == "start" else -6
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 8}" y2="{base}" stroke="#d64545" stroke-width="2.5" '
            'stroke-dasharray="7 4"/>'
        )
        parts.append(
            f'<text x="{tx + dx:.1f}" y="{top + 4}" text-anchor="{anchor}" font-size="13" font-weight="600" '
            f'fill="#d64545">threshold {threshold:.4g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _ticks(fig: MapFigure) -> list[str]:
    x0, y0, w, h = fig.map_box
    out = ['<g id="coordinate-ticks" font-size="21" fill="#243b53" stroke="none">']
    for side, offset, label in fig.ticks:
        if side == "bottom":
            x, y = x0 + offset, y0 + h
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 10}" stroke="#243b53" stroke-width="2"/>')
            out.append(f'<text x="{x:.1f}" y="{y + 32}" text-anchor="middle">{escape(label)}</text>')
        else:
            x, y = x0, y0 + offset
            out.append(f'<line x1="{x - 10}" x2="{x}" y1="{y:.1f}" y2="{y:.1f}" stroke="#243b53" stroke-width="2"/>')
            out.append(
                f'<text x="{x - 16}" y="{y:.1f}" text-anchor="middle" transform="rotate(-90 {x - 16} {y:.1f})">'
                f"{escape(label)}</text>"
            )
    out.append("</g>")
    return out


def _scale_bar(fig: MapFigure) -> list[str]:
    if fig.scale_px <= 0:
        return []
    x0, y0, _w, h = fig.map_box
    left, base = x0 + 30, y0 + h - 30
    part = fig.scale_px / fig.scale_segments
    label_w = 14 * len(fig.scale_label)
    out = [
        '<g id="scale-bar">',
        f'<rect x="{left - 16}" y="{base - 50}" width="{fig.scale_px + 32 + label_w / 2:.1f}" height="72" rx="5" '
        'fill="#ffffff" fill-opacity="0.88" stroke="#9fb3c8"/>',
    ]
    for i in range(fig.scale_segments):
        fill = "#102a43" if i % 2 == 0 else "#ffffff"
        out.append(
            f'<rect x="{left + i * part:.1f}" y="{base - 8}" width="{part:.1f}" height="14" fill="{fill}" '
            'stroke="#102a43" stroke-width="2"/>'
        )
    out.append(f'<text x="{left}" y="{base - 18}" font-size="22" fill="#102a43" text-anchor="middle">0</text>')
    out.append(
        f'<text x="{left + fig.scale_px:.1f}" y="{base - 18}" font-size="22" fill="#102a43" text-anchor="middle">'
        f"{escape(fig.scale_label)}</text>"
    )
    out.append("</g>")
    return out


def _north_arrow(fig: MapFigure) -> list[str]:
    x0, y0, w, _h = fig.map_box
    cx, cy = x0 + w - 62, y0 + 76
    return [
        f'<g id="north-arrow" transform="rotate({fig.north_deg:.2f} {cx} {cy})">',
        f'<circle cx="{cx}" cy="{cy}" r="46" fill="#ffffff" fill-opacity="0.88" stroke="#9fb3c8"/>',
        f'<polygon points="{cx},{cy - 30} {cx + 15},{cy + 24} {cx},{cy + 13}" fill="#102a43"/>',
        f'<polygon points="{cx},{cy - 30} {cx - 15},{cy + 24} {cx},{cy + 13}" fill="#ffffff" stroke="#102a43" '
        'stroke-width="2"/>',
        f'<text x="{cx}" y="{cy - 52}" font-size="26" font-weight="700" fill="#102a43" text-anchor="middle">N</text>',
        "</g>",
    ]


def map_figure_svg(fig: MapFigure, with_image: bool = True) -> str:
    """The result map as one SVG: the map image (embedded PNG), frame, ticks, scale bar and north arrow.

    ``with_image=False`` gives the furniture alone (the PDF draws the image itself, then this on top).
    """
    x0, y0, w, h = fig.map_box
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="result-map" viewBox="0 0 {fig.width} {fig.height}" '
        f'width="100%" role="img" font-family="DejaVu Sans, Arial, sans-serif">'
    ]
    if with_image:
        data = base64.b64encode(fig.png).decode("ascii")
        parts.append(
            f'<image id="result-map-image" x="{x0}" y="{y0}" width="{w}" height="{h}" '
            f'href="data:image/png;base64,{data}"/>'
        )
    parts.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#243b53" stroke-width="2"/>')
    parts += _ticks(fig) + _scale_bar(fig) + _north_arrow(fig)
    parts.append("</svg>")
    return "".join(parts)
