"""Runs over many pairs find products too: OSCD-style cities (``<city>/t1/``, ``<city>/t2/`` of band files),
folders holding two dated Sentinel-2 or Landsat products, and products named as siblings."""

from __future__ import annotations

import numpy as np
from changelens.core.batch import discover_pairs
from products import band_folder, landsat_folder, s2_safe, surface_map, zip_safe
from rasters import read


def test_oscd_cities_are_pairs(tmp_path) -> None:  # noqa: ANN001
    for city in ("paris", "pisa"):
        band_folder(tmp_path / city / "t1", surface_map(None), {"B02": 10, "B03": 10})
        band_folder(tmp_path / city / "t2", surface_map("burned"), {"B02": 10, "B03": 10})
        (tmp_path / city / "change.tif").write_bytes(b"")  # the label beside them plays no role
    pairs = {p.name: p for p in discover_pairs(str(tmp_path))}
    assert sorted(pairs) == ["paris", "pisa"] and all(p.problem is None for p in pairs.values())
    assert pairs["paris"].before.endswith("paris/t1") and pairs["paris"].after.endswith("paris/t2")
    (single,) = discover_pairs(str(tmp_path / "pisa"))  # one city chosen directly
    assert single.name == "pisa" and single.after.endswith("pisa/t2")


def test_two_dated_products_are_a_pair_the_earlier_first(tmp_path) -> None:  # noqa: ANN001
    fire = tmp_path / "fire"
    fire.mkdir()
    zip_safe(s2_safe(fire, "20230901", surface_map("burned")))
    s2_safe(fire, "20230801", surface_map(None))
    flood = tmp_path / "flood"
    flood.mkdir()
    landsat_folder(flood, "LC09_L2SP_044033_20230802_20230804_02_T1", surface_map("water"))
    landsat_folder(flood, "LC08_L2SP_044033_20230701_20230703_02_T1", surface_map(None))
    pairs = {p.name: p for p in discover_pairs(str(tmp_path))}
    assert sorted(pairs) == ["fire", "flood"] and all(p.problem is None for p in pairs.values())
    assert "20230801" in pairs["fire"].before and pairs["fire"].after.endswith(".zip")
    assert "20230701" in pairs["flood"].before and "20230802" in pairs["flood"].after


def test_products_named_as_siblings(tmp_path) -> None:  # noqa: ANN001
    band_folder(tmp_path / "a_pre", surface_map(None), {"B02": 10, "B03": 10})
    band_folder(tmp_path / "a_post", surface_map("burned"), {"B02": 10, "B03": 10})
    (pair,) = discover_pairs(str(tmp_path))
    assert (pair.name, pair.problem) == ("a", None) and pair.before.endswith("a_pre")


def test_many_pairs_runs_change_vectors_on_band_folders(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    scenes = tmp_path / "oscd"
    for city in ("one", "two"):
        band_folder(scenes / city / "t1", surface_map(None), {"B02": 10, "B03": 10, "B04": 10, "B08": 10})
        band_folder(scenes / city / "t2", surface_map("burned"), {"B02": 10, "B03": 10, "B04": 10, "B08": 10})
    result = processing.run(
        "changelens:manypairs",
        {
            "INPUT_FOLDER": str(scenes),
            "ALGORITHM": "cva",
            "PARAMETERS": '{"BANDS": "B02,B03,B04,B08", "SMOOTH": 1}',
            "OUTPUT_FOLDER": str(tmp_path / "out"),
            "OUTPUT_SUMMARY": "TEMPORARY_OUTPUT",
        },
    )
    assert (result["PAIR_COUNT"], result["SUCCEEDED"], result["FAILED"]) == (2, 2, 0)
    changed = read(next((tmp_path / "out" / "one").glob("*.tif")))
    assert int((changed == 2).sum()) == 48 * 48 and np.isin(changed, (1, 2)).all()


def test_a_safe_beside_its_own_zip_is_one_product_and_no_folder_vanishes(tmp_path) -> None:  # noqa: ANN001
    import shutil

    three = tmp_path / "three"  # pre .SAFE, post .SAFE and the post's .zip kept beside it (common)
    three.mkdir()
    s2_safe(three, "20230801", surface_map(None))
    post = s2_safe(three, "20230901", surface_map("burned"))
    shutil.make_archive(str(post.with_suffix("")), "zip", post.parent, post.name)
    one = tmp_path / "one"  # one product, unzipped and zipped
    one.mkdir()
    safe = s2_safe(one, "20230801", surface_map(None))
    shutil.make_archive(str(safe.with_suffix("")), "zip", safe.parent, safe.name)
    tiles = tmp_path / "tiles"  # two tiles of one date
    tiles.mkdir()
    s2_safe(tiles, "20230801", surface_map(None))
    other = s2_safe(tiles / "tmp", "20230801", surface_map(None))
    other.rename(tiles / other.name.replace("T10SEG", "T10SEF"))
    shutil.rmtree(tiles / "tmp")
    pairs = {p.name: p for p in discover_pairs(str(tmp_path))}
    assert sorted(pairs) == ["one", "three", "tiles"]
    assert pairs["three"].problem is None and pairs["three"].after == str(post)  # the folder, not its zip
    assert "holds one product" in pairs["one"].problem and "the same product" in pairs["one"].problem
    assert "same date 2023-08-01" in pairs["tiles"].problem and "do not tell" not in pairs["tiles"].problem


def test_a_sentinel2_and_a_landsat_product_side_by_side_are_one_pair(tmp_path) -> None:  # noqa: ANN001
    s2_safe(tmp_path, "20230801", surface_map(None))
    landsat_folder(tmp_path, "LC08_L2SP_044033_20230902_20230904_02_T1", surface_map("burned"))
    (pair,) = discover_pairs(str(tmp_path))  # the Landsat id's _T1 (its tier) is no sibling "t1" date
    assert pair.problem is None and "20230801" in pair.before and pair.after.endswith("_02_T1")
