"""Burn severity through the Processing registry and through qgis_process.bin."""

from __future__ import annotations

import os

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsRasterLayer
from qgis_process_runner import run_algorithm
from rasters import WGS84, read, write_raster

ALG = "changelens:burnseverity"


def _pair(tmp_path, pre_names=("B8", "B12"), post_names=("B8", "B12")):  # noqa: ANN001, ANN202
    rows, cols = 6, 8
    pre = np.stack([np.full((rows, cols), 4000, np.float32), np.full((rows, cols), 1000, np.float32)])
    post = pre.copy()
    post[0, :3, :] = 1500  # NIR drops on the top three rows: burned
    post[1, :3, :] = 2500
    post[0, 3, :] = 3000  # a low-severity row: NBR 0.2 -> dNBR 0.4
    post[1, 3, :] = 2000
    pre[0, 5, 0] = np.nan
    a = write_raster(tmp_path / "pre.tif", pre, descriptions=list(pre_names))
    b = write_raster(tmp_path / "post.tif", post, descriptions=list(post_names))
    return a, b


# The synthetic Sentinel-2 stacks hold DN = reflectance x 10000 (no +1000 offset) and no product metadata;
# their values (all >= 1000 DN) leave the offset question open, so the tests say which conversion applies.
S2_DN = {"RADIOMETRY": 1}


def _run(params: dict) -> dict:
    import processing

    return processing.run(ALG, params)


def test_processing_run_exact_pixels(provider, tmp_path) -> None:  # noqa: ANN001
    pre, post = _pair(tmp_path)
    out = _run(
        {
            **S2_DN,
            "PRE": pre,
            "POST": post,
            "OUTPUT_DNBR": str(tmp_path / "d.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "s.tif"),
            "OUTPUT_RBR": str(tmp_path / "rbr.tif"),
        }
    )
    d, s = read(out["OUTPUT_DNBR"]), read(out["OUTPUT_SEVERITY"])
    assert d[0, 0] == pytest.approx(0.6 + 0.25, abs=1e-6)
    assert d[3, 0] == pytest.approx(0.6 - 0.2, abs=1e-6)
    assert d[4, 4] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(d[5, 0]) and s[5, 0] == 0
    assert np.bincount(s.ravel(), minlength=8).tolist() == [1, 0, 0, 15, 0, 8, 0, 24]
    assert out["BURNED_AREA_HA"] == pytest.approx(32 * 100 / 1e4)
    assert os.path.exists(out["OUTPUT_RBR"]) and out["OUTPUT_RDNBR"] is None
    layer = QgsRasterLayer(out["OUTPUT_SEVERITY"], "sev")
    assert layer.renderer().type() == "paletted"
    labels = [c.label for c in layer.renderer().classes()]
    assert labels[0] == "Enhanced regrowth, high" and labels[-1] == "High severity"
    assert QgsRasterLayer(out["OUTPUT_DNBR"], "d").renderer().type() == "singlebandpseudocolor"
    # Inputs are only read: no histogram cache appears beside them.
    assert not [p for p in os.listdir(tmp_path) if p.startswith(("pre.", "post.")) and p.endswith(".aux.xml")]


def test_band_lookup_by_description_and_user_choice(provider, tmp_path) -> None:  # noqa: ANN001
    rows, cols = 4, 4
    pre = np.stack([np.full((rows, cols), v, np.float32) for v in (500, 4000, 3000, 1000)])
    post = np.stack([np.full((rows, cols), v, np.float32) for v in (2500, 500, 1500, 3000)])
    a = write_raster(tmp_path / "pre.tif", pre, descriptions=["B12", "B8", "B4", "B11"])
    b = write_raster(tmp_path / "post.tif", post, descriptions=["B12", "B11", "B8", "B4"])
    out = _run(
        {"PRE": a, "POST": b, "OUTPUT_DNBR": str(tmp_path / "d.tif"), "OUTPUT_SEVERITY": str(tmp_path / "s.tif")}
    )
    nbr = lambda n, s: (n - s) / (n + s)  # noqa: E731
    assert read(out["OUTPUT_DNBR"])[0, 0] == pytest.approx(nbr(4000, 500) - nbr(1500, 2500), abs=1e-6)
    # A user-chosen band wins over the description (post NIR := band 4 "B4").
    out = _run(
        {
            "PRE": a,
            "POST": b,
            "POST_NIR_BAND": 4,
            "OUTPUT_DNBR": str(tmp_path / "d2.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "s2.tif"),
        }
    )
    assert read(out["OUTPUT_DNBR"])[0, 0] == pytest.approx(nbr(4000, 500) - nbr(3000, 2500), abs=1e-6)


def test_landsat_names_and_scaling(provider, tmp_path) -> None:  # noqa: ANN001
    dn = lambda r: (r + 0.2) / 2.75e-5  # noqa: E731
    pre = np.stack([np.full((3, 3), dn(v), np.float32) for v in (0.05, 0.40, 0.10)])
    post = np.stack([np.full((3, 3), dn(v), np.float32) for v in (0.05, 0.15, 0.25)])
    pre = np.insert(pre, 2, np.full((3, 3), dn(0.2), np.float32), axis=0)  # SR_B6: the band set says OLI
    post = np.insert(post, 2, np.full((3, 3), dn(0.2), np.float32), axis=0)
    names = ["SR_B4", "SR_B5", "SR_B6", "SR_B7"]
    a = write_raster(tmp_path / "pre.tif", pre, descriptions=names)
    b = write_raster(tmp_path / "post.tif", post, descriptions=names)
    out = _run(
        {"PRE": a, "POST": b, "OUTPUT_DNBR": str(tmp_path / "d.tif"), "OUTPUT_SEVERITY": str(tmp_path / "s.tif")}
    )
    assert read(out["OUTPUT_DNBR"])[1, 1] == pytest.approx(0.6 + 0.25, abs=1e-4)


def test_post_on_other_crs_and_shifted_grid(provider, tmp_path) -> None:  # noqa: ANN001
    # Pre on UTM 33N (10 m), post on a larger geographic grid covering it: values are constant per date.
    pre = np.stack([np.full((30, 30), 4000, np.float32), np.full((30, 30), 1000, np.float32)])
    post = np.stack([np.full((300, 300), 1500, np.float32), np.full((300, 300), 2500, np.float32)])
    a = write_raster(tmp_path / "pre.tif", pre, descriptions=["B8", "B12"])
    b = write_raster(
        tmp_path / "post.tif",
        post,
        epsg=WGS84,
        descriptions=["B8", "B12"],
        geotransform=(14.99, 0.0001, 0, 46.06, 0, -0.0001),
    )
    out = _run(
        {
            **S2_DN,
            "PRE": a,
            "POST": b,
            "OUTPUT_DNBR": str(tmp_path / "d.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "s.tif"),
        }
    )
    d = read(out["OUTPUT_DNBR"])
    assert d.shape == (30, 30) and np.allclose(d, 0.85, atol=1e-5)
    # A shifted post (by 5 pixels) keeps only the overlap, on the pre grid.
    c = write_raster(
        tmp_path / "shift.tif",
        pre[:, :20, :20].copy(),
        descriptions=["B8", "B12"],
        geotransform=(500050.0, 10.0, 0, 5099950.0, 0, -10.0),
    )
    out = _run(
        {
            **S2_DN,
            "PRE": a,
            "POST": c,
            "OUTPUT_DNBR": str(tmp_path / "d3.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "s3.tif"),
        }
    )
    d3 = read(out["OUTPUT_DNBR"])
    assert d3.shape == (20, 20) and np.allclose(d3, 0.0, atol=1e-6)


@pytest.mark.parametrize("case", ["missing_band", "single_band", "not_raster", "no_overlap"])
def test_bad_input_gives_one_clear_error_and_no_output(provider, tmp_path, case) -> None:  # noqa: ANN001
    pre, post = _pair(tmp_path)
    params = {
        "PRE": pre,
        "POST": post,
        "OUTPUT_DNBR": str(tmp_path / "out_d.tif"),
        "OUTPUT_SEVERITY": str(tmp_path / "out_s.tif"),
    }
    expected = {
        "missing_band": "no band named|Cannot tell which band",
        "single_band": "1 band\\(s\\) but burn severity",
        "not_raster": "is not a raster file GDAL can read",
        "no_overlap": "do not overlap",
    }[case]
    if case == "missing_band":
        params["POST"] = write_raster(
            tmp_path / "rgb.tif", np.zeros((3, 6, 8), np.float32), descriptions=["B2", "B3", "B4"]
        )
    elif case == "single_band":
        params["POST"] = write_raster(tmp_path / "one.tif", np.zeros((1, 6, 8), np.float32))
    elif case == "not_raster":
        bad = tmp_path / "table.csv"
        bad.write_text("a,b\n1,2\n")
        params["POST"] = str(bad)
    else:
        params["POST"] = write_raster(
            tmp_path / "far.tif",
            np.ones((2, 6, 8), np.float32),
            descriptions=["B8", "B12"],
            geotransform=(700000.0, 10.0, 0, 5100000.0, 0, -10.0),
        )
    with pytest.raises(QgsProcessingException, match=expected):
        _run(params)
    assert not [p for p in os.listdir(tmp_path) if p.startswith("out_") or ".partial" in p]


def test_qgis_process_run(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    pre, post = _pair(tmp_path)
    code, payload, log = run_algorithm(
        qgis_process_env,
        ALG,
        {**S2_DN, "PRE": pre, "POST": post, "OUTPUT_DNBR": tmp_path / "d.tif", "OUTPUT_SEVERITY": tmp_path / "s.tif"},
    )
    assert code == 0, log
    assert payload["results"]["BURNED_AREA_HA"] == pytest.approx(0.32)
    s = read(tmp_path / "s.tif")
    assert np.bincount(s.ravel(), minlength=8).tolist() == [1, 0, 0, 15, 0, 8, 0, 24]
    # The style travels with the file: a layer opened later is styled.
    layer = QgsRasterLayer(str(tmp_path / "s.tif"), "s")
    assert layer.renderer().type() == "paletted" and len(layer.renderer().classes()) == 7


def test_qgis_process_bad_input(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    pre, _ = _pair(tmp_path)
    one = write_raster(tmp_path / "one.tif", np.zeros((1, 6, 8), np.float32))
    code, _payload, log = run_algorithm(
        qgis_process_env,
        ALG,
        {"PRE": pre, "POST": one, "OUTPUT_DNBR": tmp_path / "d.tif", "OUTPUT_SEVERITY": tmp_path / "s.tif"},
    )
    assert code != 0
    assert "post-fire image has 1 band(s) but burn severity (NIR and SWIR2) needs at least 2" in log
    assert not (tmp_path / "d.tif").exists() and not (tmp_path / "s.tif").exists()


def test_desktop_run_loads_styled_layers(provider, qgis_iface, tmp_path) -> None:  # noqa: ANN001
    from qgis.core import QgsProject

    import processing

    pre, post = _pair(tmp_path)
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(
        ALG,
        {
            **S2_DN,
            "PRE": pre,
            "POST": post,
            "OUTPUT_DNBR": str(tmp_path / "d.tif"),
            "OUTPUT_SEVERITY": str(tmp_path / "s.tif"),
        },
    )
    layers = {layer.name(): layer for layer in QgsProject.instance().mapLayers().values()}
    assert layers["Burn severity"].renderer().type() == "paletted"
    assert layers["dNBR"].renderer().type() == "singlebandpseudocolor"
    QgsProject.instance().removeAllMapLayers()


def test_cancel_through_feedback_leaves_no_output(provider, tmp_path) -> None:  # noqa: ANN001
    from qgis.core import QgsProcessingFeedback

    import processing

    pre, post = _pair(tmp_path)
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="cancelled"):
        processing.run(
            ALG,
            {
                **S2_DN,
                "PRE": pre,
                "POST": post,
                "OUTPUT_DNBR": str(tmp_path / "out_d.tif"),
                "OUTPUT_SEVERITY": str(tmp_path / "out_s.tif"),
            },
            feedback=feedback,
        )
    assert not [p for p in os.listdir(tmp_path) if p.startswith("out_") or ".partial" in p]


def test_gdal_and_disk_errors_become_one_sentence(qgis_app) -> None:  # noqa: ANN001
    """A GDAL error (exceptions on) or a file-system error inside core reaches the user as one sentence."""
    from changelens.processing.base import run_core

    def disk_full() -> None:
        raise RuntimeError("TIFFAppendToStrip:\nWrite error at scanline 256")

    with pytest.raises(QgsProcessingException, match=r"^Reading or writing a file failed \(TIFFAppendToStrip: Write"):
        run_core(disk_full)
    assert run_core(lambda: 3) == 3
