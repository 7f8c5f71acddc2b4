"""Band lookup, nodata/NaN/scale handling, grid alignment and pixel areas."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.errors import BandNotFoundError, NoOverlapError, NotARasterError, ParameterError
from changelens.core.io.grid import align_pair, grid_of, pixel_area_rows_m2
from changelens.core.io.pair import choose_radiometry
from changelens.core.io.raster import BandReader, canonical_band_name, open_raster, resolve_band
from changelens.core.io.sensors import LANDSAT89, LANDSAT_UNKNOWN, SENTINEL1, SENTINEL2, detect_sensor, find_role
from changelens.core.io.windows import Window
from osgeo import gdal
from rasters import WGS84, write_raster


@pytest.mark.parametrize(("a", "b"), [("B8", "B08"), ("b08", "B8"), ("SR_B5", "B5"), ("B8A", "b8a"), ("vv", "VV")])
def test_band_names_compare_equal(a: str, b: str) -> None:
    assert canonical_band_name(a) == canonical_band_name(b)


def test_b8_and_b8a_differ() -> None:
    assert canonical_band_name("B8") != canonical_band_name("B8A")


def test_lookup_by_index_and_description(tmp_path) -> None:  # noqa: ANN001
    path = write_raster(
        tmp_path / "s2.tif",
        np.zeros((4, 3, 3), np.uint16),
        descriptions=["B02", "B4, central wavelength 665 nm", "B8A", "TCI_R"],
    )
    ds = open_raster(path)
    assert resolve_band(ds, "B2") == 1
    assert resolve_band(ds, "B04") == 2
    assert resolve_band(ds, "B8A") == 3
    assert resolve_band(ds, "tci_r") == 4
    assert resolve_band(ds, 2) == 2 and resolve_band(ds, "3") == 3
    with pytest.raises(BandNotFoundError, match="no band named 'B12'.*B2, B4, B8A, TCI_R"):
        resolve_band(ds, "B12")
    with pytest.raises(BandNotFoundError, match="4 band"):
        resolve_band(ds, 5)


def test_not_a_raster(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(NotARasterError):
        open_raster(str(bad))


def test_reader_honours_nodata_nan_and_scale(tmp_path) -> None:  # noqa: ANN001
    data = np.array([[[1, 2], [65535, 4]]], np.uint16)
    path = write_raster(tmp_path / "a.tif", data, nodata=65535, scale_offset=(0.5, -1.0))
    reader = BandReader(open_raster(path), 1)
    out = reader.read(Window(0, 0, 2, 2))
    assert np.isnan(out[1, 0])
    assert out[0, 0] == pytest.approx(-0.5) and out[1, 1] == pytest.approx(1.0)
    nan_path = write_raster(tmp_path / "b.tif", np.array([[[np.nan, 3.0]]], np.float32))
    assert np.isnan(BandReader(open_raster(nan_path), 1).read(Window(0, 0, 2, 1))[0, 0])


def test_sensor_detection_and_roles(tmp_path) -> None:  # noqa: ANN001
    s2 = open_raster(
        write_raster(tmp_path / "s2.tif", np.zeros((3, 2, 2), np.uint16), descriptions=["B8", "B8A", "B12"])
    )
    assert detect_sensor(s2) is SENTINEL2
    assert find_role(s2, SENTINEL2, "nir_narrow", None, "image") == 2
    assert find_role(s2, SENTINEL2, "nir_narrow", 1, "image") == 1  # the user wins
    ls = open_raster(
        write_raster(tmp_path / "l.tif", np.zeros((3, 2, 2), np.uint16), descriptions=["SR_B4", "SR_B5", "SR_B7"])
    )
    assert detect_sensor(ls) is LANDSAT_UNKNOWN  # SR_B4/5/7 alone: OLI or TM/ETM+? (NIR is SR_B5 or SR_B4)
    assert find_role(ls, LANDSAT_UNKNOWN, "swir2", None, "image") == 3  # SR_B7 in both generations
    with pytest.raises(BandNotFoundError, match="SR_B5 or B5 on OLI, SR_B4 or B4 on TM/ETM"):
        find_role(ls, LANDSAT_UNKNOWN, "nir", None, "image")
    assert find_role(ls, LANDSAT89, "swir2", None, "image") == 3
    s1 = open_raster(write_raster(tmp_path / "s1.tif", np.zeros((2, 2, 2), np.float32), descriptions=["VV", "VH"]))
    assert detect_sensor(s1) is SENTINEL1
    with pytest.raises(BandNotFoundError, match="SWIR2"):
        find_role(s1, SENTINEL2, "swir2", None, "image")


def test_radiometry_choices(tmp_path) -> None:  # noqa: ANN001
    dn = open_raster(write_raster(tmp_path / "dn.tif", np.full((1, 4, 4), 3000, np.uint16), descriptions=["B8"]))
    with pytest.raises(ParameterError, match="baseline-04.00 offset"):  # 3000 DN everywhere fits both
        choose_radiometry(dn, 1)
    assert choose_radiometry(dn, 1, "s2_dn").scale == pytest.approx(1e-4)
    assert choose_radiometry(dn, 1, "s2_dn_offset").offset == pytest.approx(-0.1)
    refl = open_raster(write_raster(tmp_path / "r.tif", np.full((1, 4, 4), 0.3, np.float32)))
    assert choose_radiometry(refl, 1).is_identity
    ls = open_raster(write_raster(tmp_path / "ls.tif", np.full((1, 4, 4), 20000, np.uint16), descriptions=["SR_B5"]))
    rad = choose_radiometry(ls, 1)
    assert (rad.scale, rad.offset) == (2.75e-5, -0.2)
    unnamed = open_raster(write_raster(tmp_path / "u.tif", np.full((1, 4, 4), 20000, np.uint16)))
    with pytest.raises(ParameterError, match="not named after a known sensor"):  # never the Sentinel-2 rule
        choose_radiometry(unnamed, 1)


def test_align_other_crs_and_shift(tmp_path) -> None:  # noqa: ANN001
    # Reference: UTM 33N 10 m; other: same ground, 20 m pixels, shifted and larger.
    ref = write_raster(tmp_path / "ref.tif", np.ones((1, 20, 20), np.float32))
    other_data = np.arange(40 * 40, dtype=np.float32).reshape(1, 40, 40)
    other = write_raster(tmp_path / "other.tif", other_data, geotransform=(499900.0, 20.0, 0, 5100100.0, 0, -20.0))
    pair = align_pair(open_raster(ref), open_raster(other), "nearest")
    assert (pair.grid.width_px, pair.grid.height_px) == (20, 20)
    values = pair.other.GetRasterBand(1).ReadAsArray()
    # Pixel (0,0) of ref centre = (500005, 5099995) -> other col (105/20)=5, row (105/20)=5
    assert values[0, 0] == other_data[0, 5, 5]
    # Partial overlap crops to the intersection
    part = write_raster(
        tmp_path / "part.tif", np.ones((1, 10, 10), np.float32), geotransform=(500100.0, 10.0, 0, 5099900.0, 0, -10.0)
    )
    pair = align_pair(open_raster(ref), open_raster(part))
    assert (pair.reference_window.col_off, pair.reference_window.row_off, pair.grid.width_px, pair.grid.height_px) == (
        10,
        10,
        10,
        10,
    )
    far = write_raster(
        tmp_path / "far.tif", np.ones((1, 5, 5), np.float32), geotransform=(600000.0, 10.0, 0, 5100000.0, 0, -10.0)
    )
    with pytest.raises(NoOverlapError):
        align_pair(open_raster(ref), open_raster(far))


def test_align_across_crs(tmp_path) -> None:  # noqa: ANN001
    ref = write_raster(tmp_path / "utm.tif", np.ones((1, 50, 50), np.float32))
    # The same area in geographic coordinates, generously covering it.
    geo = write_raster(
        tmp_path / "geo.tif",
        np.full((1, 200, 200), 7.0, np.float32),
        epsg=WGS84,
        geotransform=(14.95, 0.001, 0, 46.1, 0, -0.001),
    )
    pair = align_pair(open_raster(ref), open_raster(geo))
    assert pair.grid.same_as(grid_of(open_raster(ref)))
    assert np.allclose(pair.other.GetRasterBand(1).ReadAsArray(), 7.0)


def test_pixel_area_geographic() -> None:
    from changelens.core.io.grid import Grid
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    grid = Grid(srs.ExportToWkt(), (10.0, 0.001, 0, 60.001, 0, -0.001), 1, 1)
    # A 0.001 x 0.001 degree cell at 60 N on WGS84: 6216.7125 m2 (geodesic area from pyproj.Geod).
    assert pixel_area_rows_m2(grid, 0, 1)[0] == pytest.approx(6216.7125, rel=1e-7)
    utm = Grid(write_wkt(32633), (0, 10.0, 0, 0, 0, -10.0), 1, 1)
    assert pixel_area_rows_m2(utm, 0, 3).tolist() == [100.0] * 3


def write_wkt(epsg: int) -> str:
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def test_sample_drops_masked_pixels_like_read(tmp_path) -> None:  # noqa: ANN001
    """A raster whose no data is a mask band (no nodata value): the sample must not see it."""
    path = str(tmp_path / "masked.tif")
    data = np.full((8, 8), 7, np.uint8)
    data[:, :4] = 0
    write_raster(path, data)
    ds = gdal.Open(path, gdal.GA_Update)
    ds.CreateMaskBand(gdal.GMF_PER_DATASET)
    mask = np.full((8, 8), 255, np.uint8)
    mask[:, :4] = 0
    ds.GetRasterBand(1).GetMaskBand().WriteArray(mask)
    ds = None
    reader = BandReader(open_raster(path), 1)
    assert np.isnan(reader.read(Window(0, 0, 8, 8))[:, :4]).all()
    sample = reader.sample(8)
    assert sample.size == 32 and (sample == 7).all()
