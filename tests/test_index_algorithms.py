"""Flood, landslide and change-vector algorithms through the Processing registry and qgis_process.bin."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsRasterLayer
from qgis_process_runner import run_algorithm
from rasters import WGS84, read, write_raster

S2 = ["B2", "B3", "B4", "B8", "B11"]
# Reflectance x 10000 of blue, green, red, NIR, SWIR1.
VEGETATION = (500, 800, 600, 3000, 2000)
WATER = (600, 700, 500, 300, 200)
BARE = (1500, 1600, 1800, 2000, 2500)


def _s2(tmp_path, name, fill, patches=(), noise=0.0):  # noqa: ANN001, ANN202
    img = np.stack([np.full((40, 40), v, np.float32) for v in fill])
    for (rows, cols), values in patches:
        img[:, rows, cols] = np.array(values, np.float32)[:, None, None]
    if noise:
        img += np.random.default_rng(len(name)).normal(0, noise, img.shape).astype(np.float32)
    return write_raster(tmp_path / name, img, descriptions=S2)


def _sar_pair(tmp_path):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(0)
    before = np.stack([np.full((40, 40), -8, np.float32), np.full((40, 40), -15, np.float32)])
    before += rng.normal(0, 1, before.shape).astype(np.float32)
    before[:, :, :6] -= 14  # a river: permanent water
    after = before.copy()
    after[:, 20:, 6:] -= 14  # the flood: lower half
    a = write_raster(tmp_path / "s1_before.tif", before, descriptions=["VV", "VH"])
    b = write_raster(tmp_path / "s1_after.tif", after, descriptions=["VV", "VH"])
    return a, b


def _dem(tmp_path, steep_from_col=30, name="dem.tif", geotransform=None):  # noqa: ANN001, ANN202
    dem = np.tile(np.arange(40, dtype=np.float32) * 0.1, (40, 1))
    dem[:, steep_from_col:] += np.arange(40 - steep_from_col, dtype=np.float32) * 5.0  # 5 m per 10 m: ~27 degrees
    kwargs = {"geotransform": geotransform} if geotransform else {}
    return write_raster(tmp_path / name, dem, **kwargs)


def _run(alg: str, params: dict) -> dict:
    import processing

    return processing.run(f"changelens:{alg}", params)


def test_sar_flood_classes_permanent_water_and_slope_mask(provider, tmp_path) -> None:  # noqa: ANN001
    before, after = _sar_pair(tmp_path)
    out = _run(
        "sarflood",
        {"BEFORE": before, "AFTER": after, "DEM": _dem(tmp_path), "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
    )
    classes = read(out["OUTPUT"])
    expected = np.ones((40, 40), np.uint8)
    expected[20:, 6:30] = 2  # flooded, except on the steep band (cols 30+)
    expected[:, :6] = 3
    assert np.array_equal(classes, expected)
    assert out["FLOODED_AREA_HA"] == pytest.approx(20 * 24 * 100 / 1e4)
    layer = QgsRasterLayer(out["OUTPUT"], "f")
    assert [c.label for c in layer.renderer().classes()] == ["Not flooded", "Flooded", "Permanent water"]
    assert os.path.exists(str(tmp_path / "f.qml"))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".changelens-")]


def test_sar_flood_after_only_with_user_threshold(provider, tmp_path) -> None:  # noqa: ANN001
    _before, after = _sar_pair(tmp_path)
    out = _run(
        "sarflood",
        {"AFTER": after, "THRESHOLD_METHOD": 2, "WATER_THRESHOLD": -18, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
    )
    classes = read(out["OUTPUT"])
    assert out["THRESHOLD"] == -18
    assert (classes[20:, :] == 2).all() and (classes[:20, :6] == 2).all() and (classes[:20, 6:] == 1).all()


def test_optical_flood_new_and_permanent_water_with_scl_mask(provider, tmp_path) -> None:  # noqa: ANN001
    lake = ((slice(0, 40), slice(0, 5)), WATER)
    before = _s2(tmp_path, "b.tif", VEGETATION, [lake], noise=20)
    after_img = np.stack([np.full((40, 40), v, np.float32) for v in VEGETATION])
    after_img[:, :, :5] = np.array(WATER, np.float32)[:, None, None]
    after_img[:, 20:, :] = np.array(WATER, np.float32)[:, None, None]
    scl = np.full((1, 40, 40), 4, np.float32)
    scl[0, 30:, 30:] = 9  # cloud
    after = write_raster(tmp_path / "a.tif", np.concatenate([after_img, scl]), descriptions=[*S2, "SCL"])
    out = _run("opticalflood", {"BEFORE": before, "AFTER": after, "OUTPUT": str(tmp_path / "o.tif")})
    classes = read(out["OUTPUT"])
    assert (classes[:, :5] == 3).all()
    assert (classes[20:30, 5:] == 2).all() and (classes[:20, 5:] == 1).all()
    assert (classes[30:, 30:] == 0).all()  # cloud masked as no data
    assert -0.4 < out["THRESHOLD"] < 0.5


def test_landslide_needs_slope_drop_and_area(provider, tmp_path) -> None:  # noqa: ANN001
    before = _s2(tmp_path, "b.tif", VEGETATION)
    scar = ((slice(5, 15), slice(32, 38)), BARE)  # on the steep band
    flat_field = ((slice(20, 30), slice(2, 12)), BARE)  # harvest on flat ground: not a landslide
    speck = ((slice(35, 36), slice(33, 34)), BARE)  # one pixel on the slope: under the minimum area
    after = _s2(tmp_path, "a.tif", VEGETATION, [scar, flat_field, speck])
    out = _run(
        "landslide",
        {"BEFORE": before, "AFTER": after, "DEM": _dem(tmp_path), "OUTPUT": str(tmp_path / "l.tif")},
    )
    classes = read(out["OUTPUT"])
    expected = np.ones((40, 40), np.uint8)
    expected[5:15, 32:38] = 2
    assert np.array_equal(classes, expected)
    assert out["LANDSLIDE_AREA_HA"] == pytest.approx(60 * 100 / 1e4)


def test_cva_magnitude_direction_and_threshold(provider, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(5)
    d1 = rng.normal(1000, 20, (2, 30, 30)).astype(np.float32)
    d2 = d1 * 1.3 + 50  # a global gain/offset that per-date normalisation removes
    d2[0, :10, :10] += 600  # band 1 increases: direction ~0 degrees
    a = write_raster(tmp_path / "d1.tif", d1, descriptions=["B4", "B8"])
    b = write_raster(tmp_path / "d2.tif", d2, descriptions=["B4", "B8"])
    out = _run(
        "cva",
        {
            "DATE1": a,
            "DATE2": b,
            "NORMALISATION": 0,  # each date on its own scale
            "SMOOTH": 1,
            "OUTPUT": str(tmp_path / "c.tif"),
            "OUTPUT_MAGNITUDE": str(tmp_path / "m.tif"),
            "OUTPUT_DIRECTION": str(tmp_path / "d.tif"),
        },
    )
    classes = read(out["OUTPUT"])
    assert (classes[:10, :10] == 2).all() and (classes[10:, :] == 1).all() and (classes[:, 10:] == 1).all()
    direction = read(out["OUTPUT_DIRECTION"])
    assert np.median(direction[:10, :10]) == pytest.approx(0.0, abs=25) or np.median(direction[:10, :10]) > 335
    user = _run(
        "cva",
        {"DATE1": a, "DATE2": b, "THRESHOLD_METHOD": 2, "THRESHOLD_VALUE": 100, "OUTPUT": str(tmp_path / "u.tif")},
    )
    assert (read(user["OUTPUT"]) == 1).all()


BAD = {
    "wrong band count": ("landslide", "has 2 band(s) but landslide mapping"),
    "all-nodata image": ("sarflood", "no valid pixel"),
    "DEM not overlapping": ("sarflood", "DEM does not overlap"),
    "8-bit declared as dB": ("sarflood", "declared as dB but its values are not dB"),
    "even smoothing window": ("cva", "smoothing window must be an odd number"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gives_one_clear_error_and_no_output(provider, tmp_path, case) -> None:  # noqa: ANN001
    alg, message = BAD[case]
    before, after = _sar_pair(tmp_path)
    params: dict = {"OUTPUT": str(tmp_path / "out.tif")}
    if case == "wrong band count":
        two = write_raster(tmp_path / "two.tif", np.ones((2, 5, 5), np.float32), descriptions=["B4", "B8"])
        params |= {"BEFORE": two, "AFTER": two, "DEM": _dem(tmp_path)}
    elif case == "all-nodata image":
        empty = write_raster(tmp_path / "e.tif", np.full((2, 40, 40), np.nan, np.float32), descriptions=["VV", "VH"])
        params |= {"BEFORE": before, "AFTER": empty}
    elif case == "DEM not overlapping":
        far = _dem(tmp_path, name="far.tif", geotransform=(900000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0))
        params |= {"BEFORE": before, "AFTER": after, "DEM": far}
    elif case == "even smoothing window":
        params |= {"DATE1": before, "DATE2": after, "SMOOTH": 4}
    else:
        byte = write_raster(tmp_path / "u8.tif", np.random.default_rng(2).integers(1, 255, (40, 40)).astype(np.uint8))
        params |= {"BEFORE": byte, "AFTER": byte, "SCALE": 1}
    with pytest.raises(QgsProcessingException, match=re.escape(message)):
        _run(alg, params)
    leftovers = [p for p in os.listdir(tmp_path) if p.startswith(("out", ".out", ".changelens-"))]
    assert leftovers == []


@pytest.mark.parametrize("alg", ["sarflood", "opticalflood", "landslide", "cva"])
def test_qgis_process_run(qgis_process_env, tmp_path, alg) -> None:  # noqa: ANN001
    before, after = _sar_pair(tmp_path)
    s2b = _s2(tmp_path, "b.tif", VEGETATION)
    s2a = _s2(tmp_path, "a.tif", VEGETATION, [((slice(5, 15), slice(32, 38)), BARE)])
    params = {
        "sarflood": {"BEFORE": before, "AFTER": after},
        "opticalflood": {
            "BEFORE": s2b,
            "AFTER": _s2(tmp_path, "w.tif", VEGETATION, [((slice(20, 40), slice(0, 40)), WATER)]),
        },
        "landslide": {"BEFORE": s2b, "AFTER": s2a, "DEM": _dem(tmp_path)},
        "cva": {"DATE1": s2b, "DATE2": s2a},
    }[alg]
    code, payload, log = run_algorithm(
        qgis_process_env, f"changelens:{alg}", {**params, "OUTPUT": str(tmp_path / "o.tif")}
    )
    assert code == 0, log
    assert payload is not None and os.path.exists(payload["results"]["OUTPUT"])
    assert "ha (" in log and os.path.exists(str(tmp_path / "o.qml"))


def test_flood_area_uses_ellipsoidal_pixel_areas_in_geographic_crs(provider, tmp_path) -> None:  # noqa: ANN001
    from changelens.core.io.grid import grid_of, pixel_area_rows_m2
    from changelens.core.io.raster import open_raster

    water = np.full((2, 20, 20), -8.0, np.float32)
    water[:, 10:, :] = -25.0  # southern half is water
    gt = (10.0, 0.001, 0.0, 60.0, 0.0, -0.001)  # ~55 x 111 m pixels at 60 degrees north
    after = write_raster(tmp_path / "a.tif", water, epsg=WGS84, geotransform=gt, descriptions=["VV", "VH"])
    out = _run("sarflood", {"AFTER": after, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")})
    rows = pixel_area_rows_m2(grid_of(open_raster(after)), 10, 10)
    assert out["FLOODED_AREA_HA"] == pytest.approx(20 * rows.sum() / 1e4, rel=1e-9)
    assert 20 * rows.sum() / 1e4 == pytest.approx(200 * 55.7 * 111.4 / 1e4, rel=0.02)


@pytest.mark.parametrize("alg", ["sarflood", "opticalflood", "landslide", "cva"])
def test_polygons_statistics_and_report_for_every_index_method(provider, tmp_path, alg) -> None:  # noqa: ANN001
    import csv

    before, after = _sar_pair(tmp_path)
    s2b = _s2(tmp_path, "b.tif", VEGETATION)
    scar = ((slice(5, 15), slice(32, 38)), BARE)
    inputs = {
        "sarflood": {"BEFORE": before, "AFTER": after, "FILTER": 3},
        "opticalflood": {
            "BEFORE": s2b,
            "AFTER": _s2(tmp_path, "w.tif", VEGETATION, [((slice(20, 40), slice(0, 40)), WATER)]),
        },
        "landslide": {"BEFORE": s2b, "AFTER": _s2(tmp_path, "a.tif", VEGETATION, [scar]), "DEM": _dem(tmp_path)},
        "cva": {"DATE1": s2b, "DATE2": _s2(tmp_path, "a.tif", VEGETATION, [scar]), "SMOOTH": 1},
    }[alg]
    out = _run(
        alg,
        {
            **inputs,
            "OUTPUT": str(tmp_path / "classes.tif"),
            "OUTPUT_POLYGONS": str(tmp_path / "polygons.gpkg"),
            "OUTPUT_STATS": str(tmp_path / "areas.csv"),
            "OUTPUT_REPORT": str(tmp_path / "report.html"),
        },
    )
    classes = read(out["OUTPUT"])
    with open(out["OUTPUT_STATS"], newline="") as handle:
        table = {int(r["class_id"]): r for r in csv.DictReader(handle)}
    mapped = [v for v in (2, 3) if v in table and int(table[v]["pixels"]) > 0]
    assert mapped, table
    for value in mapped:
        assert int(table[value]["pixels"]) == int((classes == value).sum())
    assert out["POLYGON_COUNT"] >= 1 and os.path.exists(out["OUTPUT_REPORT"])


def test_landslide_cancel_during_the_area_filter_leaves_no_output(tmp_path) -> None:  # noqa: ANN001
    from changelens.core.errors import CancelledError
    from changelens.core.methods.declaration import RunRequest
    from changelens.core.methods.landslide import Landslide, LandslideConfig
    from changelens.core.outputs.vectorize import MapOutputs, PolygonConfig
    from changelens.core.pipeline import run_and_map

    before = _s2(tmp_path, "b.tif", VEGETATION)
    after = _s2(tmp_path, "a.tif", VEGETATION, [((slice(5, 15), slice(32, 38)), BARE)])
    seen: list[float] = []

    def progress(fraction: float) -> bool:
        seen.append(fraction)
        return not 0.6 < fraction < 0.7  # stop inside the minimum-area sieve

    images = {"before": before, "after": after, "dem": _dem(tmp_path)}
    request = RunRequest(
        images, LandslideConfig(), {"classes": str(tmp_path / "l.tif"), "drop": str(tmp_path / "drop.tif")}
    )
    with pytest.raises(CancelledError):
        run_and_map(Landslide(), request, PolygonConfig(), MapOutputs(), progress=progress)
    assert any(0.6 < f < 0.7 for f in seen)
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "b.tif", "dem.tif"]
