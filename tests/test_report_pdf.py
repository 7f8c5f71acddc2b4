"""The PDF report rendered by poppler, the basemap, model runs and unnamed-band stacks in the report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata

import numpy as np
import pytest
from changelens.core.methods.burn import SEVERITY
from qgis.PyQt.QtGui import QImage
from rasters import write_raster
from test_report import POST_DATE, PRE_DATE, colour_mask, count_colour, dated_scene, make_report, result_map_png

POPPLER = shutil.which("pdftoppm")


def _poppler() -> None:
    if POPPLER is None:
        if os.environ.get("CI"):
            pytest.fail("poppler-utils is missing on CI: tools/bootstrap.sh installs it")
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")


def test_pdf_shows_title_dates_map_furniture_and_legend(provider, tmp_path) -> None:  # noqa: ANN001
    _poppler()
    result = make_report(tmp_path)
    pdf, html = result["OUTPUT_REPORT_PDF"], open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
    text = unicodedata.normalize("NFKC", text)  # "fi" may come back as a ligature
    for expected in ("hillfire_20230817 vs hillfire_20230702", PRE_DATE, POST_DATE, "Burn severity (dNBR)"):
        assert expected in text, expected
    scale_label = re.findall(r'<g id="scale-bar">.*?<text[^>]*>0</text><text[^>]*>([^<]+)</text>', html)[0]
    page_one = text.split("\f")[0]
    assert re.search(r"(^|\s)N(\s|$)", page_one) and scale_label in page_one  # north arrow, scale bar
    assert "°E" in page_one and "°N" in page_one  # coordinate ticks
    for info in SEVERITY.classes:
        assert info.name in page_one, info.name  # the legend sits under the map
    listing = subprocess.run(["pdfimages", "-list", pdf], capture_output=True, text=True, check=True).stdout
    images = [line.split() for line in listing.splitlines()[2:] if line.split() and line.split()[0] == "1"]
    drawn = [int(row[3]) / float(row[12]) * 150 for row in images if row[2] == "image"]  # px at 150 dpi
    assert max(drawn) >= 1000, listing  # the result map is drawn at least 1000 px wide
    subprocess.run([POPPLER, "-r", "150", "-f", "1", "-l", "1", "-png", pdf, str(tmp_path / "page")], check=True)
    page = QImage(str(next(tmp_path.glob("page*.png"))))
    frame = colour_mask(page, "#243b53", 60).sum(axis=1)
    assert frame.max() >= 1000  # the map frame's top and bottom edges span at least 1000 px
    assert count_colour(page, SEVERITY.by_value(7).color, 30) > 5000
    subprocess.run([POPPLER, "-r", "50", "-png", pdf, str(tmp_path / "all")], check=True)
    vegetation = 0  # the true-colour previews: green vegetation, not the map's "unburned" green
    for path in tmp_path.glob("all*.png"):
        rgb = colour_mask(QImage(str(path)), "#000000", 765)  # every pixel
        pixels = _rgb(QImage(str(path)))[rgb]
        r, g, b = (pixels[:, i].astype(int) for i in range(3))
        vegetation += int(((g > r + 8) & (g > b + 8) & (g < 200)).sum())
    assert vegetation > 2000, vegetation


def _rgb(image: QImage) -> np.ndarray:
    """Rows x columns x (red, green, blue)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    bits = rgb.constBits()
    bits.setsize(rgb.sizeInBytes())
    pixels = np.frombuffer(bits, np.uint8).reshape(rgb.height(), rgb.bytesPerLine() // 4, 4)[:, : rgb.width(), :3]
    return pixels[..., ::-1].copy()  # a copy: the view's memory goes with ``rgb`` when this returns


def test_basemap_shows_under_the_result(provider, tmp_path) -> None:  # noqa: ANN001
    """A local raster as basemap: background classes turn transparent and the basemap shows through."""
    basemap = np.zeros((3, 90, 120), np.uint8)
    basemap[0], basemap[1], basemap[2] = 40, 90, 200  # a blue backdrop
    path = write_raster(tmp_path / "basemap.tif", basemap, descriptions=["red", "green", "blue"])
    result = make_report(tmp_path, BASEMAP=path, OUTPUT_REPORT_PDF=None)
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    image = result_map_png(html)
    assert count_colour(image, SEVERITY.by_value(3).color) < 500  # unburned no longer painted
    assert count_colour(image, "#285ac8", 20) > 30000  # the basemap's blue, where nothing burned
    assert "<th style='width:32%'>Basemap</th>" in html


def test_unnamed_band_stack_previews_in_true_colour(provider, tmp_path) -> None:  # noqa: ANN001
    """A 13-band Sentinel-2 stack without band names is previewed from B4, B3, B2 (bands 4, 3, 2), not grey."""
    import processing

    rng = np.random.default_rng(3)
    stack = (rng.random((13, 40, 50)) * 3000 + 500).astype(np.uint16)
    stack[7] = 4000  # bright NIR, as over vegetation
    before = write_raster(tmp_path / "t1.tif", stack)
    after = write_raster(tmp_path / "t2.tif", stack[::-1].copy())
    result = processing.run(
        "changelens:cva",
        {
            "DATE1": before,
            "DATE2": after,
            "OUTPUT": str(tmp_path / "change.tif"),
            "OUTPUT_REPORT": str(tmp_path / "report.html"),
        },
    )
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    assert [c for c in captions if c.endswith("true colour, bands 4, 3, 2")] == captions[1:], captions


def test_model_report_has_mean_probability_histogram_and_readable_names(provider, tmp_path) -> None:  # noqa: ANN001
    from changelens.ui.models import bundled_dir

    import processing

    a, b = dated_scene(tmp_path)
    result = processing.run(
        "changelens:runmodel",
        {
            "MODEL_FILE": os.path.join(bundled_dir(), "burned_s2.onnx"),
            "IMAGE": a,
            "AFTER": b,
            "OUTPUT_CLASSES": str(tmp_path / "classes.tif"),
            "OUTPUT_PROBABILITY": str(tmp_path / "probability.tif"),
            "OUTPUT_REPORT": str(tmp_path / "report.html"),
        },
    )
    html = open(result["OUTPUT_REPORT"], encoding="utf-8").read()
    assert "<h1 id='title'>tmp" not in html and f"{PRE_DATE} → {POST_DATE}" in html
    assert "Mean probability of burned" in html and "Histogram of probability of burned" in html
    means = re.findall(r"<td class='n'>([01]\.\d{3})</td></tr>", html)
    assert len(means) == 2, html[html.index("Area by class") :][:3000]  # one mean probability per class
    assert ">Unburned</td>" in html.replace("</span>", "") and ">Burned</td>" in html.replace("</span>", "")
    assert "B08 = band 4 (B8)" in html  # the bands the model read


def test_pdf_report_that_fails_while_drawing_leaves_no_partial_file(qgis_app, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from changelens.core.outputs.report import ReportContent
    from changelens.processing import pdf_report

    content = ReportContent("Burn severity", "dNBR", SEVERITY, (), ())
    pdf_report.write_pdf_report(str(tmp_path / "ok.pdf"), content, "today")
    assert open(tmp_path / "ok.pdf", "rb").read().startswith(b"%PDF")

    def broken(*_args: object) -> None:
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(pdf_report, "_table", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        pdf_report.write_pdf_report(str(tmp_path / "report.pdf"), content, "today")
    assert sorted(os.listdir(tmp_path)) == ["ok.pdf"]
