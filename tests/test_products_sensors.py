"""Change vectors on products of sensors that name their bands differently (compared by role, as reflectance,
or refused in one sentence), and the default band set of Landsat Level-1 products.

Every product is written in ``tmp_path`` (``tests/products.py``); the asserts are pixels, areas and messages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from products import (
    band_folder,
    burn_params,
    landsat7_folder,
    landsat_folder,
    landsat_l1_folder,
    s2_safe,
    surface_map,
)
from rasters import read, write_raster
from routes import RunFailed, run_logged

L8 = "LC08_L2SP_044033_{}_20230703_02_T1"
L7 = "LE07_L2SP_044033_{}_20230703_02_T1"
L1 = "LC08_L1TP_044033_{}_20230703_02_T1"
BLOCK_30M = 16 * 16  # the changed square (10 m pixels 24-72) in 30 m pixels


def _cva(request, a: Path, b: Path, folder: Path, **extra: object) -> tuple[dict, str]:  # noqa: ANN001
    params = {"DATE1": str(a), "DATE2": str(b), "SMOOTH": 1, "OUTPUT": str(folder / "c.tif"), **extra}
    return run_logged(request, "changelens:cva", params)


# -- 1. sensors that number bands differently are compared band by band through their roles -----------------


def test_change_vectors_landsat7_with_landsat8_match_bands_by_role(request, tmp_path) -> None:  # noqa: ANN001
    before = landsat7_folder(tmp_path, L7.format("20230701"), surface_map(None))
    after = landsat_folder(tmp_path, L8.format("20230802"), surface_map("burned"))
    out, log = _cva(request, before, after, tmp_path)
    changed = read(out["OUTPUT"]) == 2
    assert int(changed.sum()) == BLOCK_30M and changed[8:24, 8:24].all()  # by number: 73 % of the scene
    assert "SR_B3 (red) with SR_B4 (red)" in log and "SR_B4 (nir) with SR_B5 (nir)" in log
    assert "SR_B5 (swir1) with SR_B6 (swir1)" in log and "name their bands differently" in log


def test_change_vectors_sentinel2_with_landsat8_compare_reflectance_by_role(request, tmp_path) -> None:  # noqa: ANN001
    before = s2_safe(tmp_path, "20230801", surface_map(None))
    after = landsat_folder(tmp_path, L8.format("20230802"), surface_map("burned"))
    out, log = _cva(request, before, after, tmp_path)
    changed = read(out["OUTPUT"]) == 2
    near = np.zeros(changed.shape, bool)
    near[21:75, 21:75] = True  # the burned square and the 30 m pixels on its edge, resampled (bilinear)
    assert changed[27:69, 27:69].all() and not changed[~near].any()  # by number, raw DN: 88 % "change"
    assert "B04 (red) with SR_B4 (red)" in log and "B8A (nir) with SR_B5 (nir)" in log
    assert "Sentinel-2 (DN -1000) / 10000" in log and "DN x 2.75e-05 -0.2" in log


def test_bands_named_across_sensors_are_matched_by_role_or_refused(request, tmp_path) -> None:  # noqa: ANN001
    before = band_folder(tmp_path / "t1", surface_map(None))
    after = landsat_l1_folder(tmp_path, L1.format("20230802"), surface_map("burned"))
    with pytest.raises(RunFailed, match=r"BANDS names 'B8', which is B08 \(nir\) on the date 1 image .*no blue"):
        _cva(request, before, after, tmp_path, BANDS="B4,B8")  # Sentinel-2 NIR with Landsat's panchromatic
    assert not (tmp_path / "c.tif").exists()
    out, log = _cva(request, before, after, tmp_path, BANDS="B4,nir,B12")
    assert "B04 (red) with B4 (red), B8A (nir) with B5 (nir), B12 (swir2) with B7 (swir2)" in log
    assert "Bands compared: red (B04 / B4), nir (B8A / B5), swir2 (B12 / B7) (3)." in log
    with pytest.raises(RunFailed, match=r"'4', which is B04 \(red\) on the date 1 .*SR_B4 \(nir\) on the date 2"):
        _cva(request, before, landsat7_folder(tmp_path, L7.format("20230802"), surface_map(None)), tmp_path, BANDS="4")


# -- 7. Landsat Level-1: the reflective bands at 30 m, the level named right ------------------------------------


def test_change_vectors_on_landsat_level1_take_the_reflective_30_m_bands(request, tmp_path, capfd) -> None:  # noqa: ANN001
    before = landsat_l1_folder(tmp_path, L1.format("20230701"), surface_map(None))
    after = landsat_l1_folder(tmp_path, L1.format("20230802"), surface_map("burned"))
    out, log = _cva(request, before, after, tmp_path)
    assert gdal.Open(out["OUTPUT"]).GetGeoTransform()[1] == 30  # not the panchromatic 15 m
    assert "a stack of B1, B2, B3, B4, B5, B6, B7 at 30 m" in log  # no B8 (pan), B9 (cirrus), B10/B11 (thermal)
    assert "BANDS empty: the reflective bands at the sensor's multispectral pixel size" in log
    assert int((read(out["OUTPUT"]) == 2).sum()) == BLOCK_30M
    assert "Illegal band" not in capfd.readouterr().err
    _out, log = run_logged(request, "changelens:burnseverity", burn_params(before, after, tmp_path))
    assert "(Landsat 8/9 OLI (Collection 2 Level-1))" in log and "Level-2) L1" not in log


# -- 3. stacks that name their bands differently are matched by role, never by band number --------------------


def _striped(path: Path, roles: list[str], names: list[str] | None, changed: bool) -> str:
    """Reflectance stack whose band of each role is bright in its own column stripe (a band compared with another
    role's band shows as stripes of change) and, when ``changed``, brighter in a 20 px square."""
    all_roles = ["blue", "green", "red", "nir"]
    bands = []
    for role in roles:
        a = np.full((80, 80), 0.10, np.float32)
        k = all_roles.index(role)
        a[:, k * 10 : (k + 1) * 10] = 0.35
        if changed:
            a[60:80, 60:80] += 0.25
        bands.append(a)
    return write_raster(path, np.stack(bands), descriptions=names, geotransform=(500000.0, 30, 0, 5100000.0, 0, -30))


@pytest.mark.parametrize(
    ("roles", "names"),
    [
        (["red", "green", "blue", "nir"], ["red", "green", "blue", "nir"]),  # STAC names, another order
        (["red", "green", "blue", "nir"], ["Red", "Green", "Blue", "NIR"]),
        (["nir", "blue", "green", "red"], ["B8A", "B02", "B03", "B04"]),  # B8A beside B08: one name differs
        (["red", "green", "blue", "nir"], ["B04", "", "B02", "B08"]),  # partly named
    ],
)
def test_stacks_named_differently_are_matched_by_role(roles, names, request, tmp_path) -> None:  # noqa: ANN001
    s2 = _striped(tmp_path / "s2.tif", ["blue", "green", "red", "nir"], ["B02", "B03", "B04", "B08"], False)
    other = _striped(tmp_path / "other.tif", roles, names, True)
    out, log = _cva(request, Path(s2), Path(other), tmp_path)
    change = read(out["OUTPUT"]) == 2
    square = np.zeros_like(change)
    square[60:80, 60:80] = True
    assert change[square].all() and not change[~square].any()
    assert "matched by spectral role" in log


def test_names_without_roles_are_refused_and_unnamed_bands_are_logged_by_number(request, tmp_path) -> None:  # noqa: ANN001
    s2 = _striped(tmp_path / "s2.tif", ["blue", "green", "red", "nir"], ["B02", "B03", "B04", "B08"], False)
    names = ["Band 3", "Band 2", "Band 1", "Band 4"]
    odd = _striped(tmp_path / "odd.tif", ["red", "green", "blue", "nir"], names, True)
    with pytest.raises(RunFailed, match="name their bands differently"):
        _cva(request, Path(s2), Path(odd), tmp_path)
    unnamed = _striped(tmp_path / "unnamed.tif", ["blue", "green", "red", "nir"], None, True)
    _out, log = _cva(request, Path(s2), Path(unnamed), tmp_path)
    assert "date 2 unnamed: band 1 taken by its number" in log
