"""The HTML report: self-contained, rendered by headless Chromium into a page a decision maker can read."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from changelens.core.methods.burn import SEVERITY
from qgis.PyQt.QtGui import QColor, QImage
from scenes import burn_scene

ALG = "changelens:burnseverity"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PRE_DATE, POST_DATE = "2023-07-02", "2023-08-17"


def dated_scene(tmp_path: Path) -> tuple[str, str]:
    """The burn scene saved under names that carry the acquisition dates."""
    pre, post = burn_scene(tmp_path)
    names = [tmp_path / f"hillfire_{d.replace('-', '')}.tif" for d in (PRE_DATE, POST_DATE)]
    for old, new in zip((pre, post), names):
        os.replace(old, new)
    return str(names[0]), str(names[1])


def make_report(tmp_path: Path, **extra: object) -> dict:
    """Run dNBR with every shared output; ``extra`` adds or replaces parameters."""
    import processing

    pre, post = dated_scene(tmp_path)
    return processing.run(
        ALG,
        {
            "PRE": pre,
            "POST": post,
            "OUTPUT_DNBR": str(tmp_path / "dnbr.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "severity.tif"),
            "OUTPUT_POLYGONS": str(tmp_path / "polygons.gpkg"),
            "OUTPUT_STATS": str(tmp_path / "areas.csv"),
            "OUTPUT_REPORT": str(tmp_path / "report.html"),
            "OUTPUT_REPORT_PDF": str(tmp_path / "report.pdf"),
            **extra,
        },
    )


def count_colour(image: QImage, colour: str, tolerance: int = 6) -> int:
    """Pixels within ``tolerance`` (sum of channel differences) of ``colour``."""
    return int(colour_mask(image, colour, tolerance).sum())


def colour_mask(image: QImage, colour: str, tolerance: int = 6) -> np.ndarray:
    """Rows x columns, True where the pixel is ``colour`` (within ``tolerance``)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    bits = rgb.constBits()
    bits.setsize(rgb.sizeInBytes())
    pixels = np.frombuffer(bits, np.uint8).reshape(rgb.height(), rgb.bytesPerLine() // 4, 4)[:, : rgb.width(), :3]
    target = QColor(colour)
    bgr = np.array([target.blue(), target.green(), target.red()], np.int16)
    return np.abs(pixels.astype(np.int16) - bgr).sum(axis=2) <= tolerance


def result_map_png(html: str) -> QImage:
    match = re.search(r'<image id="result-map-image"[^>]*href="data:image/png;base64,([^"]+)"', html)
    assert match, "no result map in the page"
    image = QImage()
    assert image.loadFromData(base64.b64decode(match.group(1)), "PNG")
    return image


def test_report_is_self_contained_with_title_dates_location_maps_and_table(provider, tmp_path) -> None:  # noqa: ANN001
    result = make_report(tmp_path)
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    assert html.count("data:image/png;base64,") == 3  # result map, before, after
    assert 'src="http' not in html and "<script" not in html and "<link" not in html
    result_map = result_map_png(html)
    assert result_map.width() >= 1000
    assert count_colour(result_map, SEVERITY.by_value(3).color) > 40000  # unburned surroundings
    assert count_colour(result_map, SEVERITY.by_value(7).color) > 10000  # high severity core
    title = re.search(r"<h1 id='title'>([^<]+)</h1>", html).group(1)
    assert title == f"hillfire_20230817 vs hillfire_20230702 · {PRE_DATE} → {POST_DATE}"
    assert "Burn severity (dNBR)" in html  # the method, under the event title
    for text in ("Where and when", "Centre", "° N", "Extent", " km", "EPSG:32633", PRE_DATE, POST_DATE):
        assert text in html, text
    for text in ('id="scale-bar"', 'id="north-arrow"', 'id="coordinate-ticks"', "°E", "°N</text>"):
        assert text in html, text
    assert "true colour, bands 3, 2, 1 (B4, B3, B2)" in html  # previews from the bands found
    assert "Bands, conversions and masks used" in html and "NIR_NARROW = band 4" in html
    for info in SEVERITY.classes:
        assert info.name in html
    assert "Histogram of dNBR" in html and "threshold 0.099" in html
    assert not list(tmp_path.glob("hillfire_*.aux.xml"))  # the inputs are only read (no histogram beside them)
    polygons = re.findall(r"<td class='n'>([\d,]+)</td><td class='n'>[-–\d.]+</td></tr>", html)
    assert sum(int(p.replace(",", "")) for p in polygons) == result["POLYGON_COUNT"] > 0


def test_event_title_parameter_replaces_the_default(provider, tmp_path) -> None:  # noqa: ANN001
    result = make_report(tmp_path, EVENT_TITLE="Creek Fire, 17 August 2023", OUTPUT_REPORT_PDF=None)
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    assert "<h1 id='title'>Creek Fire, 17 August 2023</h1>" in html


def _measured(report: str, tmp_path: Path) -> tuple[dict, QImage]:
    """Chromium's layout of the page (sizes of the result map, scale bar, north arrow...) and a screenshot."""
    probe = (
        "<script>(function(){const box=s=>{const e=document.querySelector(s);if(!e)return null;"
        "const r=e.getBoundingClientRect();return [r.width,r.height];};"
        "const out={title:document.querySelector('#title').textContent,map:box('#result-map'),"
        "image:box('#result-map-image'),scale:box('#scale-bar'),north:box('#north-arrow'),"
        "ticks:document.querySelectorAll('#coordinate-ticks text').length,"
        "scale_label:[...document.querySelectorAll('#scale-bar text')].map(t=>t.textContent),"
        "legend:[...document.querySelectorAll('#legend li')].map(li=>li.textContent),"
        "dates:[...document.querySelectorAll('td.date')].map(td=>td.textContent)};"
        "const p=document.createElement('pre');p.id='measured';p.textContent=JSON.stringify(out);"
        "document.body.appendChild(p);})();</script></body>"
    )
    probed = tmp_path / "probed.html"
    probed.write_text(Path(report).read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    common = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,3000",
    ]
    dom = subprocess.run([*common, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    subprocess.run([*common, f"--screenshot={shot}", Path(report).as_uri()], capture_output=True, timeout=120)
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")), QImage(str(shot))


def test_report_renders_in_headless_chromium(provider, tmp_path) -> None:  # noqa: ANN001
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI: tools/bootstrap.sh installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    report = make_report(tmp_path, OUTPUT_REPORT_PDF=None)["OUTPUT_REPORT"]
    measured, image = _measured(report, tmp_path)
    assert measured["title"].startswith("hillfire_20230817 vs hillfire_20230702")
    assert measured["dates"] == [PRE_DATE, POST_DATE]
    assert measured["image"][0] >= 1000, measured  # the result map spans the page
    assert measured["scale"][0] > 100 and measured["north"][0] > 30, measured
    assert measured["scale_label"][0] == "0" and re.fullmatch(r"[\d.]+ k?m", measured["scale_label"][1])
    assert measured["ticks"] >= 4
    assert [name for name in measured["legend"]] == [c.name for c in SEVERITY.classes]
    assert not image.isNull() and image.width() == 1280
    assert image.pixelColor(10, 10).name() == "#1f2933"  # the dark title band
    assert count_colour(image, SEVERITY.by_value(7).color) > 8000  # map, legend, table swatches, bars
    assert count_colour(image, "#d64545", 40) > 80  # the histogram's threshold line
