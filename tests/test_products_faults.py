"""Products as dates that once gave a silently wrong map: band files that do not cover the stack, masks in
another CRS, two files for one band, a date all cloud.

Every product is written in ``tmp_path`` (``tests/products.py``); the asserts are pixels, areas and messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from products import (
    _dataset,
    band_folder,
    burn_params,
    reflectance,
    s2_safe,
    scl_with_cloud,
    surface_map,
)
from rasters import read
from routes import RunFailed, run_logged

# -- 2. pixels outside a band file's footprint are no data, never 0 ------------------------------------------


def _stac_folders(folder: Path, bands: dict[str, str], partial: tuple[str, str]) -> tuple[Path, Path]:
    """Float reflectance folders ``pre``/``post`` of STAC-named files (unknown sensor, no no-data value); the
    file ``partial`` = (date, name) covers the west half only. Nothing changed between the dates."""
    for date in ("pre", "post"):
        (folder / date).mkdir()
        for name, twin in bands.items():
            values = reflectance(surface_map(None), twin).astype(np.float32)
            if (date, name) == partial:
                values = values[:, :48]
            _dataset("GTiff", folder / date / f"{name}.tif", values, 10, gdal.GDT_Float32)
    return folder / "pre", folder / "post"


def test_burn_where_a_band_file_does_not_reach_is_no_data(request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _stac_folders(tmp_path, {"nir08": "B8A", "swir22": "B12"}, ("pre", "swir22"))
    out, _log = run_logged(request, "changelens:burnseverity", burn_params(pre, post, tmp_path))
    severity = read(out["OUTPUT_SEVERITY"])
    assert (severity[:, :48] == 3).all() and (severity[:, 48:] == 0).all()  # was 46 ha moderate-high
    assert out["BURNED_AREA_HA"] == 0 and abs(out["VALID_AREA_HA"] - 96 * 48 * 0.01) < 1e-6


def test_vegetation_loss_where_a_band_file_does_not_reach_is_no_data(request, tmp_path) -> None:  # noqa: ANN001
    bands = {"red": "B04", "nir": "B08", "swir16": "B11"}
    pre, post = _stac_folders(tmp_path, bands, ("post", "red"))
    params = {"BEFORE": str(pre), "AFTER": str(post), "OUTPUT": str(tmp_path / "l.tif")}
    out, _log = run_logged(request, "changelens:vegetationloss", params)
    classes = read(out["OUTPUT"])
    assert (classes[:, 48:] == 0).all() and not (classes[:, :48] == 2).any()


def test_an_integer_band_file_without_no_data_reads_outside_its_footprint_as_nan(tmp_path) -> None:  # noqa: ANN001
    from changelens.core.io.bandfiles import find_product
    from changelens.core.io.stack import build_stack

    for name, width in (("nir08", 96), ("swir22", 48)):
        _dataset("GTiff", tmp_path / f"{name}.tif", np.full((96, width), 3000, np.uint16), 10, gdal.GDT_UInt16)
    product = find_product(str(tmp_path))
    build_stack(product, list(product.bands.values()), {}, False, str(tmp_path / "s.vrt"), "bilinear", "date")
    ds = gdal.Open(str(tmp_path / "s.vrt"))
    swir = ds.GetRasterBand(2).ReadAsArray()
    assert (ds.GetRasterBand(1).ReadAsArray() == 3000).all()  # covering the grid: read as stored
    assert (swir[:, :48] == 3000).all() and np.isnan(swir[:, 48:]).all()


# -- 3. a mask file in another CRS is warped onto the bands, not placed by its raw coordinates -------------------


def test_a_mask_file_in_another_crs_masks_its_clouds(request, tmp_path) -> None:  # noqa: ANN001
    pre = band_folder(tmp_path / "t1", surface_map(None))
    post = band_folder(tmp_path / "t2", surface_map("burned"))
    _dataset("GTiff", tmp_path / "scl_utm.tif", scl_with_cloud(slice(0, 12), slice(0, 12)), 20, gdal.GDT_Byte)
    gdal.Warp(str(post / "SCL.tif"), str(tmp_path / "scl_utm.tif"), dstSRS="EPSG:4326", resampleAlg="near")
    out, _log = run_logged(request, "changelens:burnseverity", burn_params(pre, post, tmp_path, RADIOMETRY=1))
    severity = read(out["OUTPUT_SEVERITY"])
    assert int((severity[:12, :12] == 0).sum()) >= 130  # was 0 of 144; the rest lost to the round trip's edges
    assert int((severity == 0).sum()) <= 150


# -- 4. two files for one band ------------------------------------------------------------------------------


def test_two_files_for_one_band_are_refused_naming_both(request, tmp_path) -> None:  # noqa: ANN001
    pre = band_folder(tmp_path / "t1", surface_map(None), {"B8A": 20, "B12": 20})
    post = band_folder(tmp_path / "t2", surface_map("burned"), {"B8A": 20, "B12": 20})
    (pre / "A_B8A.tif").write_bytes((post / "B8A.tif").read_bytes())  # the other date's band, dropped beside
    with pytest.raises(RunFailed, match=r"2 files for band B8A \('A_B8A.tif' and 'B8A.tif'\).*band list file"):
        run_logged(request, "changelens:burnseverity", burn_params(pre, post, tmp_path, RADIOMETRY=1))
    listing = tmp_path / "pre.txt"
    listing.write_text("t1/B8A.tif\nt1/B12.tif\nt1/A_B8A.tif\n", encoding="utf-8")
    with pytest.raises(RunFailed, match=r"2 files for band B8A"):
        run_logged(request, "changelens:burnseverity", burn_params(listing, post, tmp_path, RADIOMETRY=1))
    listing.write_text("t1/B8A.tif\nt1/B12.tif\n", encoding="utf-8")  # how to choose: a list
    out, _log = run_logged(request, "changelens:burnseverity", burn_params(listing, post, tmp_path, RADIOMETRY=1))
    assert int((read(out["OUTPUT_SEVERITY"]) == 7).sum()) == 24 * 24
    assert not list(tmp_path.glob(".changelens-*"))


# -- 6. a date entirely under its cloud mask stops before writing --------------------------------------------


def _all_cloud_pair(folder: Path) -> tuple[Path, Path]:
    pre = s2_safe(folder, "20230801", surface_map(None))
    return pre, s2_safe(folder, "20230901", surface_map("burned"), scl=np.full((48, 48), 9, np.uint8))


@pytest.mark.parametrize(
    "algorithm, names",
    [
        ("changelens:burnseverity", ("PRE", "POST")),
        ("changelens:vegetationloss", ("BEFORE", "AFTER")),
        ("changelens:opticalflood", ("BEFORE", "AFTER")),
        ("changelens:cva", ("DATE1", "DATE2")),
    ],
)
def test_a_date_all_cloud_stops_before_writing(algorithm, names, request, tmp_path) -> None:  # noqa: ANN001
    pre, post = _all_cloud_pair(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    outputs = {"OUTPUT": str(out / "o.tif")} if algorithm != "changelens:burnseverity" else {}
    outputs |= {"OUTPUT_SEVERITY": str(out / "s.tif"), "OUTPUT_DNBR": str(out / "d.tif")} if not outputs else {}
    params = {names[0]: str(pre), names[1]: str(post), "OUTPUT_REPORT": str(out / "r.html"), **outputs}
    with pytest.raises(RunFailed, match=r"is entirely covered by its cloud mask .*CLOUD_MASK=1"):
        run_logged(request, algorithm, params)
    assert os.listdir(out) == []


def test_a_model_date_all_cloud_stops_before_writing(request, tmp_path) -> None:  # noqa: ANN001
    from onnx_models import base_metadata, layout_model

    pre, post = _all_cloud_pair(tmp_path / "in")
    model = layout_model(tmp_path / "m.onnx", "separate", base_metadata(layout="separate", bands=["B8A"]))
    out = tmp_path / "out"
    out.mkdir()
    params = {"MODEL_FILE": model, "IMAGE": str(pre), "AFTER": str(post), "THREADS": 1}
    params |= {"OUTPUT_CLASSES": str(out / "c.tif"), "OUTPUT_PROBABILITY": str(out / "p.tif")}
    with pytest.raises(RunFailed, match=r"The after image is entirely covered by its cloud mask"):
        run_logged(request, "changelens:runmodel", params)
    assert os.listdir(out) == []


# -- 8. a SAFE zipped inside a wrapper folder; 9. band list files as editors write them --------------------------


def test_a_safe_zipped_one_folder_down_is_read_and_deeper_is_explained(request, tmp_path) -> None:  # noqa: ANN001
    import zipfile

    pre = s2_safe(tmp_path, "20230801", surface_map(None))
    post = s2_safe(tmp_path, "20230901", surface_map("burned"))
    for archive, wrapper in (("nested.zip", "download/"), ("deep.zip", "a/b/")):
        with zipfile.ZipFile(tmp_path / archive, "w") as handle:
            for path in post.rglob("*"):
                handle.write(path, wrapper + str(path.relative_to(tmp_path)))
    out, log = run_logged(request, "changelens:burnseverity", burn_params(pre, tmp_path / "nested.zip", tmp_path))
    assert int((read(out["OUTPUT_SEVERITY"]) == 7).sum()) == 24 * 24 and "Sentinel-2 SAFE" in log
    with pytest.raises(RunFailed, match=r"'deep.zip' holds a Sentinel-2 product, but deeper .*unzip it"):
        run_logged(request, "changelens:burnseverity", burn_params(pre, tmp_path / "deep.zip", tmp_path / "x"))


def test_band_lists_with_a_bom_a_header_or_a_bad_line(request, tmp_path) -> None:  # noqa: ANN001
    pre = band_folder(tmp_path / "t1", surface_map(None), {"B8A": 20, "B12": 20})
    post = band_folder(tmp_path / "t2", surface_map("burned"), {"B8A": 20, "B12": 20})
    listing = tmp_path / "pre.csv"
    for text in ("\ufefft1/B8A.tif\nt1/B12.tif\n", "\ufeffpath,band\nt1/B8A.tif,B8A\r\nt1/B12.tif,B12\r\n"):
        listing.write_text(text, encoding="utf-8")
        out, _log = run_logged(request, "changelens:burnseverity", burn_params(listing, post, tmp_path, RADIOMETRY=1))
        assert int((read(out["OUTPUT_SEVERITY"]) == 7).sum()) == 24 * 24
    listing.write_text("t1/B8A.tif\nt1/B12.tif.aux.xml\n", encoding="utf-8")
    with pytest.raises(RunFailed, match=r"'pre.csv', line 2 \('t1/B12.tif.aux.xml'\), is not a band file line: a band"):
        run_logged(request, "changelens:burnseverity", burn_params(listing, post, tmp_path, RADIOMETRY=1))
    assert pre.is_dir()
