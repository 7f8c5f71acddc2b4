"""The demo scene generator: seeded, georeferenced, and its events sit where the methods expect them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from osgeo import gdal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "demo"))

import scene  # noqa: E402


def _slope_deg(dem: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(dem, scene.PIXEL_M)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def test_scene_is_seeded_and_events_are_plausible() -> None:
    a, b = scene.make_scene(7), scene.make_scene(7)
    assert np.array_equal(a.after, b.after) and np.array_equal(a.dem, b.dem)
    assert not np.array_equal(scene.make_scene(8).dem, a.dem)
    slope = _slope_deg(a.dem)
    assert np.median(slope[a.events["landslide"]]) > 10  # the landslide sits on a steep slope
    assert np.median(slope[a.events["flood"]]) < 5  # the flood on the flat floodplain
    for key in ("flood", "burn", "buildings", "landslide"):
        assert a.events[key].sum() > 50, key


def test_generate_writes_georeferenced_described_rasters(tmp_path) -> None:  # noqa: ANN001
    paths = scene.generate(tmp_path)
    s2 = gdal.Open(paths["s2_after"])
    assert [s2.GetRasterBand(i).GetDescription() for i in range(1, s2.RasterCount + 1)] == [*scene.S2_BANDS, "SCL"]
    assert "32633" in s2.GetProjection() or "UTM zone 33N" in s2.GetProjection()
    s1 = gdal.Open(paths["s1_after"])
    vv = s1.GetRasterBand(1).ReadAsArray()
    assert s1.GetRasterBand(2).GetDescription() == "VH" and -30 < float(np.median(vv)) < 0
