"""A date given as a product, the way users download it: a Sentinel-2 SAFE (folder, zip, MTD file), a Landsat
Collection 2 folder (or its MTL file), a folder of band files, a list of band files.

Every optical method and "Run ONNX model" runs on products built in ``tmp_path`` (``tests/products.py``)
through ``processing.run`` and ``qgis_process.bin``; the asserts are the pixels, the resolution chosen,
the masks applied and the log lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from products import (
    BLOCK,
    band_folder,
    burn_params,
    landsat_folder,
    s2_safe,
    scl_with_cloud,
    surface_map,
    zip_safe,
)
from rasters import read
from routes import ROUTES, RunFailed, run, run_logged

BURN = "changelens:burnseverity"
HIGH, UNBURNED = 7, 3
CLOUD_20M = (slice(6, 18), slice(30, 42))  # SCL cloud in 20 m pixels, overlapping the burned square's corner


def _safe_pair(folder: Path, cloud: bool = True) -> tuple[Path, Path]:
    pre = s2_safe(folder, "20230801", surface_map(None))
    scl = scl_with_cloud(*CLOUD_20M) if cloud else scl_with_cloud(slice(0, 0), slice(0, 0))
    post = s2_safe(folder, "20230901", surface_map("burned"), scl=scl)
    return pre, post


def _block(shape: tuple[int, int], factor: int) -> np.ndarray:
    """The burned square on a grid ``factor`` x 10 m."""
    out = np.zeros(shape, bool)
    side = slice(BLOCK.start // factor, BLOCK.stop // factor)
    out[side, side] = True
    return out


@pytest.mark.parametrize("route", ROUTES)
def test_burn_on_safe_folders_at_20_m_with_the_scl_mask(route, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _safe_pair(tmp_path)
    out = run(route, request, BURN, burn_params(pre, post, tmp_path))
    ds = gdal.Open(out["OUTPUT_SEVERITY"])
    assert ds.GetGeoTransform()[1] == 20 and (ds.RasterXSize, ds.RasterYSize) == (48, 48)  # B8A and B12: 20 m
    severity = ds.ReadAsArray()
    cloud = np.zeros(severity.shape, bool)
    cloud[CLOUD_20M] = True
    burned = _block(severity.shape, 2)
    assert (severity[cloud] == 0).all() and np.isnan(read(out["OUTPUT_DNBR"])[cloud]).all()
    assert (severity[burned & ~cloud] == HIGH).all() and (severity[~burned & ~cloud] == UNBURNED).all()
    assert out["BURNED_AREA_HA"] == pytest.approx(int((burned & ~cloud).sum()) * 400 / 1e4)


def test_the_log_and_report_say_how_the_product_was_read(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _safe_pair(tmp_path)
    report = tmp_path / "report.html"
    _out, log = run_logged(request, BURN, burn_params(pre, post, tmp_path, OUTPUT_REPORT=str(report)))
    assert "a stack of B8A, B12 at 20 m; nothing copied" in log
    assert "cloud-mask layers SCL (nearest)" in log
    assert "cloud mask Sentinel-2 SCL (band 3)" in log and "6.2 % of the date's valid pixels masked" in log
    assert "pre-fire image: no cloud mask with the file" in log
    assert "(DN -1000) / 10000 (processing baseline 05.09 (MTD_MSIL2A.xml)" in log  # the MTD behind the stack
    page = report.read_text(encoding="utf-8")
    reading = page[page.index("Bands, conversions and masks used") :].replace("&#x27;", "'")
    for text in ("a stack of B8A, B12 at 20 m", "6.2 % of the date's valid pixels masked", "B8A, 20 m native"):
        assert text in reading, text


def test_cloud_mask_off_keeps_clouds_as_surface(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _safe_pair(tmp_path)
    out, log = run_logged(request, BURN, burn_params(pre, post, tmp_path, CLOUD_MASK=1))
    assert "cloud mask off" in log and "cloud-mask layers" not in log
    assert not (read(out["OUTPUT_SEVERITY"]) == 0).any()


def test_safe_dn0_is_no_data_through_the_stack(request, tmp_path) -> None:  # noqa: ANN001
    """NODATA (DN 0, the MTD's SPECIAL_VALUE) stays no data although the offset would make it -0.1."""
    dn0 = np.zeros((96, 96), bool)
    dn0[:, :12] = True
    pre = s2_safe(tmp_path, "20230801", surface_map(None), dn0=dn0)
    post = s2_safe(tmp_path, "20230901", surface_map("burned"))
    out, log = run_logged(request, BURN, burn_params(pre, post, tmp_path))
    severity = read(out["OUTPUT_SEVERITY"])
    assert (severity[:, :6] == 0).all() and (severity[:, 6:] != 0).all()
    assert "12.5 %" in log


@pytest.mark.parametrize("form", ["zip", "mtd"])
def test_safe_as_zip_or_mtd_file(form, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _safe_pair(tmp_path)
    if form == "zip":
        pre, post = zip_safe(pre), zip_safe(post)
    else:
        pre, post = pre / "MTD_MSIL2A.xml", post / "MTD_MSIL2A.xml"
    out = run("processing", request, BURN, burn_params(pre, post, tmp_path))
    severity = read(out["OUTPUT_SEVERITY"])
    assert severity.shape == (48, 48) and int((severity == 0).sum()) == 144


# -- Sentinel-2 L1C zip with MSK_CLASSI, vegetation loss at 10 m (B11 resampled) ------------------------------

CLASSI_OPAQUE = (4, 4)  # 60 m cell over the burned square's corner: 10 m rows/cols 24-29
CLASSI_CIRRUS = (0, 15)  # a 60 m cell outside it


def _l1c_pair(folder: Path) -> tuple[Path, Path]:
    classi = np.zeros((3, 16, 16), np.uint8)
    classi[0][CLASSI_OPAQUE] = 1
    classi[1][CLASSI_CIRRUS] = 1
    pre = s2_safe(folder, "20230801", surface_map(None), level="L1C")
    post = s2_safe(folder, "20230901", surface_map("burned"), level="L1C", classi=classi)
    return zip_safe(pre), zip_safe(post)


@pytest.mark.parametrize("route", ROUTES)
def test_vegetation_loss_on_l1c_zips_at_10_m_with_msk_classi(route, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _l1c_pair(tmp_path)
    params = {"BEFORE": str(pre), "AFTER": str(post), "THRESHOLD_METHOD": 2, "OUTPUT": str(tmp_path / "loss.tif")}
    out = run(route, request, "changelens:vegetationloss", params)
    ds = gdal.Open(out["OUTPUT"])
    assert ds.GetGeoTransform()[1] == 10 and ds.RasterXSize == 96  # B4, B8 at 10 m; B11 resampled to them
    classes = ds.ReadAsArray()
    masked = np.zeros(classes.shape, bool)
    masked[24:30, 24:30] = True  # opaque clouds
    masked[0:6, 90:96] = True  # cirrus
    assert (classes[masked] == 0).all() and int((classes == 0).sum()) == 72
    assert int((classes == 2).sum()) == 48 * 48 - 36 and (classes[_block(classes.shape, 1) & ~masked] == 2).all()


def test_vegetation_loss_log_names_the_resampling_and_the_mask(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _l1c_pair(tmp_path)
    params = {"BEFORE": str(pre), "AFTER": str(post), "THRESHOLD_METHOD": 2, "OUTPUT": str(tmp_path / "loss.tif")}
    _out, log = run_logged(request, "changelens:vegetationloss", params)
    assert "a stack of B04, B08, B11 at 10 m; B11 (20 m) resampled to it (bilinear)" in log
    assert "cloud-mask layers MSK_CLASSI_OPAQUE, MSK_CLASSI_CIRRUS, MSK_CLASSI_SNOW (nearest)" in log
    assert "Sentinel-2 MSK_CLASSI_B00 (opaque clouds, cirrus, snow; no shadows)" in log
    assert "0.8 % of the date's valid pixels masked" in log  # 72 of 9216
    assert "(DN -1000) / 10000" in log and "MTD_MSIL1C.xml" in log


def test_nearest_resampling_is_used_only_when_asked(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _l1c_pair(tmp_path)
    params = {"BEFORE": str(pre), "AFTER": str(post), "RESAMPLING": 0, "OUTPUT": str(tmp_path / "loss.tif")}
    _out, log = run_logged(request, "changelens:vegetationloss", params)
    assert "B11 (20 m) resampled to it (nearest)" in log


# -- Landsat Collection 2 folder with QA_PIXEL: optical flood -----------------------------------------------

LANDSAT_ID = "LC09_L2SP_044033_{date}_20230703_02_T1"
CLEAR = 21824


def _landsat_pair(folder: Path) -> tuple[Path, Path]:
    qa = np.full((32, 32), CLEAR, np.uint16)
    qa[8:12, 8:12] = CLEAR | (1 << 3)  # cloud, inside the new water
    qa[20:24, 0:4] = CLEAR | (1 << 4)  # cloud shadow
    qa[28:32, 28:32] = 1  # fill
    before = landsat_folder(folder, LANDSAT_ID.format(date="20230701"), surface_map(None))
    after = landsat_folder(folder, LANDSAT_ID.format(date="20230802"), surface_map("water"), qa)
    return before, after


@pytest.mark.parametrize("route", ROUTES)
def test_optical_flood_on_landsat_folders_with_qa_pixel(route, request, tmp_path) -> None:  # noqa: ANN001
    before, after = _landsat_pair(tmp_path)
    mtl = after / f"{after.name}_MTL.txt"  # a product given by its MTL file
    out = run(
        route,
        request,
        "changelens:opticalflood",
        {"BEFORE": str(before), "AFTER": str(mtl), "OUTPUT": str(tmp_path / "f.tif")},
    )
    ds = gdal.Open(out["OUTPUT"])
    assert ds.GetGeoTransform()[1] == 30 and ds.RasterXSize == 32
    classes = ds.ReadAsArray()
    masked = np.zeros(classes.shape, bool)
    masked[8:12, 8:12] = masked[20:24, 0:4] = masked[28:32, 28:32] = True
    water = _block(classes.shape, 3)
    assert (classes[masked] == 0).all() and int((classes == 0).sum()) == 48
    assert (classes[water & ~masked] == 2).all() and int((classes == 2).sum()) == 256 - 16


def test_landsat_log_says_mtl_scale_and_qa_bits(request, tmp_path) -> None:  # noqa: ANN001
    before, after = _landsat_pair(tmp_path)
    params = {"BEFORE": str(before), "AFTER": str(after), "OUTPUT": str(tmp_path / "f.tif")}
    _out, log = run_logged(request, "changelens:opticalflood", params)
    assert "Landsat product LC09_L2SP_044033_20230802_20230703_02_T1 (Landsat Collection 2 product)" in log
    assert "a stack of SR_B3, SR_B6 at 30 m" in log and "cloud-mask layers QA_PIXEL" in log
    assert "the product's MTL file, band 6" in log
    assert "QA_PIXEL bits 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud, 4 cloud shadow, 5 snow" in log
    assert "3.2 % of the date's valid pixels masked" in log  # cloud and shadow: 32 of the 1008 with data


# -- OSCD-style folders of band files and lists: change vectors, landslides ---------------------------------


def _oscd_pair(folder: Path) -> tuple[Path, Path]:
    return band_folder(folder / "t1", surface_map(None)), band_folder(folder / "t2", surface_map("burned"))


@pytest.mark.parametrize("route", ROUTES)
def test_change_vectors_on_band_folders(route, request, tmp_path) -> None:  # noqa: ANN001
    t1, t2 = _oscd_pair(tmp_path)
    params = {"DATE1": str(t1), "DATE2": str(t2), "BANDS": "B02,B03,B04,B08", "SMOOTH": 1}
    out = run(route, request, "changelens:cva", {**params, "OUTPUT": str(tmp_path / "c.tif")})
    ds = gdal.Open(out["OUTPUT"])
    classes = ds.ReadAsArray()
    assert ds.GetGeoTransform()[1] == 10 and classes.shape == (96, 96)
    assert (classes[_block(classes.shape, 1)] == 2).all() and int((classes == 2).sum()) == 48 * 48


def test_change_vectors_on_band_folders_use_every_band_up_to_20_m(request, tmp_path) -> None:  # noqa: ANN001
    t1, t2 = _oscd_pair(tmp_path)
    params = {"DATE1": str(t1), "DATE2": str(t2), "SMOOTH": 1, "OUTPUT": str(tmp_path / "c.tif")}
    out, log = run_logged(request, "changelens:cva", params)
    assert "a stack of B02, B03, B04, B05, B06, B07, B08, B8A, B11, B12 at 10 m" in log  # never B01, B09, B10
    assert "B05 (20 m), B06 (20 m), B07 (20 m), B8A (20 m), B11 (20 m), B12 (20 m) resampled to it (bilinear)" in log
    assert "Bands compared: B2, B3, B4, B5, B6, B7, B8, B8A, B11, B12 (10)." in log
    assert int((read(out["OUTPUT"])[_block((96, 96), 1)] == 2).sum()) >= 46 * 46


def test_band_list_file_and_numbers_as_the_producers_band_numbers(request, tmp_path) -> None:  # noqa: ANN001
    t1, t2 = _oscd_pair(tmp_path)
    lists = []
    for folder in (t1, t2):
        listing = folder.parent / f"{folder.name}_bands.txt"
        listing.write_text(f"# {folder.name}\n{folder.name}/B04.tif\n{folder.name}/B08.tif\n{folder}/B03.tif,green\n")
        lists.append(listing)
    params = {"DATE1": str(lists[0]), "DATE2": str(lists[1]), "BANDS": "4,8", "SMOOTH": 1}
    out, log = run_logged(request, "changelens:cva", {**params, "OUTPUT": str(tmp_path / "c.tif")})
    assert "list of band files 't1_bands.txt'" in log and "a stack of B04, B08 at 10 m" in log
    assert int((read(out["OUTPUT"]) == 2).sum()) == 48 * 48


@pytest.mark.parametrize("route", ROUTES)
def test_landslides_on_safe_folders_with_a_dem(route, request, tmp_path) -> None:  # noqa: ANN001
    from products import EPSG, ULX, ULY, _dataset

    pre = s2_safe(tmp_path, "20230801", surface_map(None))
    post = s2_safe(tmp_path, "20230901", surface_map("bare"), scl=scl_with_cloud(slice(0, 6), slice(0, 6)))
    dem = tmp_path / "dem.tif"
    _dataset("GTiff", dem, np.tile(np.arange(96, dtype=np.float32) * 5.0, (96, 1)), 10, gdal.GDT_Float32)  # 26.6 deg
    assert (EPSG, ULX, ULY) == (32610, 600000, 4400040)
    params = {"BEFORE": str(pre), "AFTER": str(post), "DEM": str(dem), "MIN_AREA": 0, "OUTPUT": str(tmp_path / "l.tif")}
    out = run(route, request, "changelens:landslide", params)
    ds = gdal.Open(out["OUTPUT"])
    classes = ds.ReadAsArray()
    assert ds.GetGeoTransform()[1] == 10  # green, red, NIR (B03, B04, B08) are 10 m bands
    assert (classes[:12, :12] == 0).all()  # SCL cloud (20 m cells 0-5)
    assert (classes[_block(classes.shape, 1)] == 2).all() and int((classes == 2).sum()) == 48 * 48


# -- "Run ONNX model" on products --------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_model_on_safe_folders_reads_the_model_bands_and_masks_clouds(route, request, tmp_path) -> None:  # noqa: ANN001
    from onnx_models import base_metadata, layout_model

    pre, post = _safe_pair(tmp_path)
    meta = base_metadata(layout="separate", bands=["B8A"], values="reflectance")
    model = layout_model(tmp_path / "m.onnx", "separate", meta)
    params = {"MODEL_FILE": model, "IMAGE": str(pre), "AFTER": str(post), "THREADS": 1}
    out = run(
        route,
        request,
        "changelens:runmodel",
        {**params, "OUTPUT_CLASSES": str(tmp_path / "c.tif"), "OUTPUT_PROBABILITY": str(tmp_path / "p.tif")},
    )
    ds = gdal.Open(out["OUTPUT_PROBABILITY"])
    after = ds.ReadAsArray()  # the probability is the after NIR (B8A reflectance)
    assert ds.GetGeoTransform()[1] == 20
    cloud = np.zeros(after.shape, bool)
    cloud[CLOUD_20M] = True
    burned = _block(after.shape, 2)
    assert np.isnan(after[cloud]).all() and (read(out["OUTPUT_CLASSES"])[cloud] == 255).all()
    assert np.allclose(after[burned & ~cloud], 0.15, atol=1e-4) and np.allclose(
        after[~burned & ~cloud], 0.30, atol=1e-4
    )


def test_model_on_landsat_folders_logs_the_stack(request, tmp_path) -> None:  # noqa: ANN001
    from onnx_models import base_metadata, layout_model

    before, after = _landsat_pair(tmp_path)
    meta = base_metadata(layout="separate", bands=["SR_B5"], values="reflectance")
    model = layout_model(tmp_path / "m.onnx", "separate", meta)
    params = {"MODEL_FILE": model, "IMAGE": str(before), "AFTER": str(after), "THREADS": 1}
    report = tmp_path / "r.html"
    params |= {
        "OUTPUT_CLASSES": str(tmp_path / "c.tif"),
        "OUTPUT_PROBABILITY": str(tmp_path / "p.tif"),
        "OUTPUT_REPORT": str(report),
    }
    out, log = run_logged(request, "changelens:runmodel", params)
    assert "a stack of SR_B5 at 30 m" in log and "Landsat QA_PIXEL" in log
    assert int(np.isnan(read(out["OUTPUT_PROBABILITY"])).sum()) == 48
    assert "3.2 % of the date" in report.read_text(encoding="utf-8")


# -- stacks the user built ------------------------------------------------------------------------------------


def test_a_vrt_mixing_pixel_sizes_is_refused(request, tmp_path) -> None:  # noqa: ANN001
    t1, t2 = _oscd_pair(tmp_path)
    stacks = []
    for folder in (t1, t2):
        vrt = str(folder.parent / f"{folder.name}.vrt")
        gdal.BuildVRT(vrt, sorted(str(p) for p in folder.glob("B*.tif")), separate=True)  # a 26.7 m grid
        stacks.append(vrt)
    with pytest.raises(RunFailed, match=r"VRT whose bands come from files of different pixel sizes \(10, 20, 60\)"):
        run(
            "processing",
            request,
            "changelens:cva",
            {"DATE1": stacks[0], "DATE2": stacks[1], "OUTPUT": str(tmp_path / "c.tif")},
        )
    with pytest.raises(RunFailed, match="give the product or the folder of band files instead"):
        run("processing", request, BURN, burn_params(stacks[0], stacks[1], tmp_path, RADIOMETRY=1))
    assert not list(tmp_path.glob("*.tif"))


def test_unnamed_stack_logs_the_band_numbers_used(request, tmp_path) -> None:  # noqa: ANN001
    from input_cases import burn_truth, s2_dn, write

    nir, swir, post_nir, post_swir = burn_truth()
    grid = (600000, 20, 0, 4400040, 0, -20)
    a = write(tmp_path / "a.tif", [s2_dn(nir), s2_dn(swir)], grid)
    b = write(tmp_path / "b.tif", [s2_dn(post_nir), s2_dn(post_swir)], grid)
    bands = {"PRE_NIR_BAND": 1, "PRE_SWIR2_BAND": 2, "POST_NIR_BAND": 1, "POST_SWIR2_BAND": 2}
    _out, log = run_logged(request, BURN, {**burn_params(a, b, tmp_path), **bands, "RADIOMETRY": 1})
    assert "NIR_NARROW = band 1 (unnamed: taken by its number), SWIR2 = band 2 (unnamed: taken by its number)" in log
