"""Other instances of the input kinds: Sentinel-1 band names and fills, ground control points, rasters
without georeferencing (each run through the Processing registry and, where marked, every route)."""

from __future__ import annotations

import numpy as np
import pytest
from input_cases import (
    burn_truth,
    grd_gcp,
    s2_dn,
    snap_s1,
    write,
)
from input_runs import (
    BLOCK_PX,
    BURN,
    HIGH,
    RAD,
    ROUTES,
    SAR,
    RunFailed,
    burn_outputs,
    run,
)
from osgeo import gdal
from rasters import read


def _sar_classes(request, paths: list[str], folder) -> np.ndarray:  # noqa: ANN001
    """The flood classes of a before/after pair with the focal median filter (``FILTER=3``)."""
    params = {"BEFORE": paths[0], "AFTER": paths[1], "FILTER": 3, "OUTPUT": str(folder / "f.tif")}
    return read(run("processing", request, SAR, params)["OUTPUT"])


@pytest.mark.parametrize(
    ("names", "scale"),
    [
        (["Gamma0_VH_dB", "Gamma0_VV_dB"], "db"),
        (["Sigma0_VH", "Sigma0_VV"], "power"),
        (["Amplitude_VH", "Amplitude_VV"], "amplitude_dn"),  # SNAP's uncalibrated GRD amplitude
        (["vh", "vv"], "db"),
    ],
)
def test_other_sentinel1_band_names(names, scale, request, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(11)
    paths = []
    for stem, flood in (("before", False), ("after", True)):
        source = gdal.Open(snap_s1(tmp_path / f"{stem}_src.tif", flood, rng))
        bands = [source.GetRasterBand(i).ReadAsArray() for i in (1, 2)]
        if scale == "power":
            bands = [(10 ** (b / 10)).astype(np.float32) for b in bands]
        elif scale == "amplitude_dn":  # DN = sqrt(sigma0) x a calibration constant
            bands = [(np.sqrt(10 ** (b / 10)) * 800).astype(np.float32) for b in bands]
        paths.append(write(tmp_path / f"{stem}.tif", bands, source.GetGeoTransform(), 4326, names, gdal.GDT_Float32))
    classes = _sar_classes(request, paths, tmp_path)
    assert int((classes == 2).sum()) == 900 and int((classes == 3).sum()) == 500


def test_few_gcps_use_a_polynomial_and_say_so(request, tmp_path) -> None:  # noqa: ANN001
    before = grd_gcp(tmp_path / "before.tif", 0, False)
    after = grd_gcp(tmp_path / "after.tif", 20, True)
    for path in (before, after):
        ds = gdal.Open(path, gdal.GA_Update)
        gcps = ds.GetGCPs()
        ds.SetGCPs([gcps[i] for i in (0, 4, 20, 24)], ds.GetGCPProjection())
        ds = None
    messages: list[str] = []
    from qgis.core import QgsProcessingFeedback

    class Feedback(QgsProcessingFeedback):
        def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt name
            messages.append(info)

    import processing

    request.getfixturevalue("provider")
    out = processing.run(
        SAR,
        {"BEFORE": before, "AFTER": after, "SCALE": 3, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
        feedback=Feedback(),
    )
    assert any("first-order polynomial through 4 GCPs" in m for m in messages)
    assert int((read(out["OUTPUT"]) == 2).sum()) == 800


@pytest.mark.parametrize("route", ROUTES)
def test_rasters_without_georeferencing(route, request, tmp_path) -> None:  # noqa: ANN001
    """Refused with what to do; declared pixel-aligned, mapped with areas unknown (never 1 m² pixels)."""
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B8A", "B12"]
    a = write(tmp_path / "pre.png.tif", [s2_dn(nir), s2_dn(swir)], None, None, names)
    b = write(tmp_path / "post.png.tif", [s2_dn(post_nir), s2_dn(post_swir)], None, None, names)
    base = {"PRE": a, "POST": b, "RADIOMETRY": RAD["s2_dn"], **burn_outputs(tmp_path)}
    with pytest.raises(RunFailed, match="no georeferencing"):
        run(route, request, BURN, base)
    out = run(route, request, BURN, {**base, "PIXEL_ALIGNED": True})
    severity = read(out["OUTPUT_SEVERITY"])
    assert int((severity == HIGH).sum()) == BLOCK_PX
    assert out["BURNED_AREA_HA"] is None and out["VALID_AREA_HA"] is None


def test_unknown_areas_are_logged_as_unknown_not_nan(request, tmp_path) -> None:  # noqa: ANN001
    """Class lines of a pixel-aligned run say the area is unknown instead of printing 'nan ha'."""
    from qgis.core import QgsProcessingFeedback

    import processing

    messages: list[str] = []

    class Feedback(QgsProcessingFeedback):
        def pushInfo(self, info: str) -> None:  # noqa: N802 - Qt name
            messages.append(info)

    request.getfixturevalue("provider")
    nir, swir, post_nir, post_swir = burn_truth()
    a = write(tmp_path / "pre.png.tif", [s2_dn(nir), s2_dn(swir)], None, None, ["B8A", "B12"])
    b = write(tmp_path / "post.png.tif", [s2_dn(post_nir), s2_dn(post_swir)], None, None, ["B8A", "B12"])
    params = {"PRE": a, "POST": b, "RADIOMETRY": RAD["s2_dn"], "PIXEL_ALIGNED": True, **burn_outputs(tmp_path)}
    processing.run(BURN, params, feedback=Feedback())
    high = [m for m in messages if m.startswith("High severity:")]
    assert high and "area unknown (no georeferencing)" in high[0] and "nan" not in high[0]


@pytest.mark.parametrize("fill", [-3.4028234663852886e38, -9999.0])
def test_sentinel1_fill_values_are_no_data(fill, request, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(12)
    before = snap_s1(tmp_path / "before.tif", False, rng)
    source = gdal.Open(snap_s1(tmp_path / "after_src.tif", True, rng))
    bands = [source.GetRasterBand(i).ReadAsArray() for i in (1, 2)]
    for band in bands:
        band[:, 90:] = fill
    after = write(
        tmp_path / "after.tif",
        bands,
        source.GetGeoTransform(),
        4326,
        ["Sigma0_VH_db", "Sigma0_VV_db"],
        gdal.GDT_Float32,
    )
    out = run(
        "processing", request, SAR, {"BEFORE": before, "AFTER": after, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")}
    )
    classes = read(out["OUTPUT"])
    assert (classes[:, 90:] == 0).all() and int((classes == 2).sum()) == 900


def test_sentinel1_db_export_zero_outside_is_no_data(request, tmp_path) -> None:  # noqa: ANN001
    """An Earth Engine dB export writes 0 (0 dB) outside the footprint: not backscatter, not a flood."""
    rng = np.random.default_rng(13)
    paths = []
    for stem, flood in (("before", False), ("after", True)):
        source = gdal.Open(snap_s1(tmp_path / f"{stem}_src.tif", flood, rng))
        vv = source.GetRasterBand(2).ReadAsArray()
        if stem == "before":
            vv[:, :30] = 0.0
        paths.append(write(tmp_path / f"{stem}.tif", [vv], source.GetGeoTransform(), 4326, ["VV"], gdal.GDT_Float32))
    classes = _sar_classes(request, paths, tmp_path)
    assert (classes[:, :30] == 0).all() and int((classes == 2).sum()) == 900


def test_rotated_gcp_swath_corners_are_no_data(request, tmp_path) -> None:  # noqa: ANN001
    before = grd_gcp(tmp_path / "before.tif", 0, False, angle_deg=20)
    after = grd_gcp(tmp_path / "after.tif", 0, True, angle_deg=20)
    out = run(
        "processing",
        request,
        SAR,
        {"BEFORE": before, "AFTER": after, "SCALE": 3, "FILTER": 3, "OUTPUT": str(tmp_path / "f.tif")},
    )
    classes = read(out["OUTPUT"])
    assert classes[0, 0] == 0 and classes[-1, -1] == 0  # the bounding box's empty corners
    valid = int((classes > 0).sum())
    assert abs(valid - 120 * 120) < 0.03 * 120 * 120  # the swath itself, not its bounding box
    assert abs(int((classes == 2).sum()) - 800) < 40
