"""The HTML report: self-contained, and rendered by headless Chromium into a page that looks right."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from changelens.core.methods.burn import SEVERITY
from qgis.PyQt.QtGui import QColor, QImage
from scenes import burn_scene

ALG = "changelens:burnseverity"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _report(tmp_path) -> str:  # noqa: ANN001
    import processing

    pre, post = burn_scene(tmp_path)
    result = processing.run(
        ALG,
        {
            "PRE": pre,
            "POST": post,
            "MIN_AREA_M2": 300,
            "OUTPUT_DNBR": str(tmp_path / "dnbr.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "severity.tif"),
            "OUTPUT_POLYGONS": str(tmp_path / "polygons.gpkg"),
            "OUTPUT_STATS": str(tmp_path / "areas.csv"),
            "OUTPUT_REPORT": str(tmp_path / "report.html"),
        },
    )
    return result["OUTPUT_REPORT"]


def _count(image: QImage, colour: str, tolerance: int = 6) -> int:
    """Pixels within ``tolerance`` (sum of channel differences) of ``colour``."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    bits = rgb.constBits()
    bits.setsize(rgb.sizeInBytes())
    pixels = np.frombuffer(bits, np.uint8).reshape(rgb.height(), rgb.bytesPerLine() // 4, 4)[:, : rgb.width(), :3]
    target = QColor(colour)
    bgr = np.array([target.blue(), target.green(), target.red()], np.int16)
    return int((np.abs(pixels.astype(np.int16) - bgr).sum(axis=2) <= tolerance).sum())


def test_report_is_self_contained_with_maps_legend_table_histogram(provider, tmp_path) -> None:  # noqa: ANN001
    html = open(_report(tmp_path), encoding="utf-8").read()
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(pngs) == 3  # before, after, result
    result_map = QImage()
    assert result_map.loadFromData(base64.b64decode(pngs[2]), "PNG")
    assert result_map.width() > 300
    # The result map shows the class colours (unburned surroundings, high severity core).
    assert _count(result_map, SEVERITY.by_value(3).color) > 4000
    assert _count(result_map, SEVERITY.by_value(7).color) > 2000
    for text in ("Legend", "Area by class", "Histogram of dNBR", "threshold 0.099", "Run time", "Pre-fire image"):
        assert text in html
    for info in SEVERITY.classes:
        assert info.name in html
    assert "<svg" in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_report_renders_in_headless_chromium(provider, tmp_path) -> None:  # noqa: ANN001
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI: tools/bootstrap.sh installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    report = _report(tmp_path)
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            f"file://{report}",
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    image = QImage(str(shot))
    assert not image.isNull(), "Chromium wrote no screenshot"
    assert (image.width(), image.height()) == (1280, 2000)
    assert image.pixelColor(10, 10).name() == "#1f2933"  # the dark title band
    # Maps, legend, table swatches and histogram bars are drawn in the class colours.
    assert _count(image, SEVERITY.by_value(7).color) > 8000
    assert _count(image, SEVERITY.by_value(4).color) > 4000
    assert _count(image, "#d64545", 40) > 80  # the threshold line


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
