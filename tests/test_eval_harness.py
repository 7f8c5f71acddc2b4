"""`make eval` plumbing: datasets found by layout (unseen splits too), scoring, and one row through Processing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from rasters import WGS84, write_raster

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from eval.datasets import discover  # noqa: E402
from eval.methods import METHODS  # noqa: E402
from eval.scoring import Counts, label_on_grid, score_case  # noqa: E402


def _png(path: Path, array: np.ndarray) -> None:
    from osgeo import gdal

    path.parent.mkdir(parents=True, exist_ok=True)
    mem = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], 1, gdal.GDT_Byte)
    mem.GetRasterBand(1).WriteArray(array)
    gdal.GetDriverByName("PNG").CreateCopy(str(path), mem)


def _layout(root: Path) -> None:
    rng = np.random.default_rng(0)
    before = rng.integers(120, 200, (32, 32)).astype(np.uint8)
    after = before.copy()
    after[16:, :] = rng.integers(10, 40, (16, 32))
    mask = np.zeros((32, 32), np.uint8)
    mask[16:, :] = 255
    split = root / "flood" / "ombria_s1" / "holdout"  # a split the code has never seen
    _png(split / "BEFORE" / "S1_before_0007.png", before)
    _png(split / "AFTER" / "S1_after_0007.png", after)
    _png(split / "MASK" / "S1_mask_0007.png", mask)
    _png(split / "AFTER" / "S1_after_0009.png", after)  # no before/mask: not a case
    fire = root / "burned" / "prepost" / "NEWFIRE"
    fire.mkdir(parents=True)
    for name in ("pre.tif", "post.tif", "mask.tif"):
        write_raster(fire / name, np.ones((2, 4, 4), np.float32), epsg=WGS84)
    city = root / "oscd" / "atlantis"
    for t in ("t1", "t2"):
        (city / t).mkdir(parents=True)
        write_raster(city / t / "B02.tif", np.ones((4, 4), np.uint16), epsg=WGS84)
    write_raster(city / "change.tif", np.zeros((4, 4), np.uint8), epsg=WGS84)


def test_discover_finds_datasets_by_layout(tmp_path) -> None:  # noqa: ANN001
    _layout(tmp_path)
    found = {d.path: d for d in discover(tmp_path)}
    assert set(found) == {"flood/ombria_s1/holdout", "burned/prepost", "oscd"}
    assert found["flood/ombria_s1/holdout"].kind == "sar_pairs_png"
    assert [c.name for c in found["flood/ombria_s1/holdout"].cases] == ["0007"]
    assert found["oscd"].kind == "s2_band_folders" and found["oscd"].cases[0].inputs["t1"].endswith("atlantis/t1")
    assert found["burned/prepost"].cases[0].name == "NEWFIRE"
    assert {m.name for m in METHODS if "sar_pairs_png" in m.kinds} >= {"sar_flood"}


def test_counts_and_label_warped_onto_output_grid(tmp_path) -> None:  # noqa: ANN001
    counts = Counts()
    counts.add(np.array([True, True, False, False]), np.array([True, False, True, False]), np.ones(4, bool))
    assert counts.metrics() == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "iou": pytest.approx(0.3333, abs=1e-4)}
    label = np.zeros((4, 4), np.uint8)
    label[:, 2:] = 1
    lab = write_raster(tmp_path / "lab.tif", label, geotransform=(0.0, 10.0, 0.0, 40.0, 0.0, -10.0))
    # The prediction covers only the right half of the label, at 5 m pixels.
    pred = np.full((8, 4), 2, np.uint8)
    pred[0, 0] = 0  # no data: excluded
    out = write_raster(tmp_path / "pred.tif", pred, geotransform=(20.0, 5.0, 0.0, 40.0, 0.0, -5.0), nodata=0)
    warped, _nodata = label_on_grid(lab, out)
    assert warped.shape == (8, 4) and (warped == 1).all()
    counts = Counts()
    score_case(out, lab, (2,), (1,), (), counts)
    assert (counts.tp, counts.fp, counts.fn) == (31, 0, 0)


def test_eval_row_runs_through_processing(provider, tmp_path) -> None:  # noqa: ANN001
    from eval.run import run_method

    _layout(tmp_path / "data")
    dataset = next(d for d in discover(tmp_path / "data") if d.kind == "sar_pairs_png")
    method = next(m for m in METHODS if m.name == "sar_flood")
    row = run_method(dataset, method, tmp_path)
    assert row["cases"] == 1 and "failed" not in row, row
    assert row["f1"] > 0.9 and row["dataset"] == "flood/ombria_s1/holdout" and row["default"] is True
    # Every pooled number traces to its cases: one row per case, whose counts add up to the pooled ones.
    assert [c["case"] for c in row["per_case"]] == ["0007"]
    assert all(sum(c[k] for c in row["per_case"]) == row[k] for k in ("tp", "fp", "fn", "tn"))
    assert "in_sample" not in row["per_case"][0]  # an index method has no training cases


def test_in_sample_comes_from_the_model_card_not_the_dataset_name(provider, tmp_path) -> None:  # noqa: ANN001
    """A model row marks as in-sample exactly the cases its card lists in training_cases."""
    import dataclasses

    from eval.cards import find_card, training_cases
    from eval.run import in_sample_note

    assert "burned/prepost/DOVE_20241019" in training_cases("burned_s2")
    assert training_cases("landslide_s2") == set()  # simulation only
    assert find_card("no_such_model") is None
    burned = next(m for m in METHODS if m.name == "model:burned_s2")
    rows = [{"case": "DOVE_20241019", "in_sample": True}, {"case": "NEWFIRE", "in_sample": False}]
    assert in_sample_note(burned, rows).startswith("in-sample on 1 of 2 cases (DOVE_20241019")
    assert in_sample_note(burned, rows[1:]).startswith("out-of-sample")
    assert in_sample_note(dataclasses.replace(burned, held_out=True), rows).startswith("held-out fold models")
    assert in_sample_note(next(m for m in METHODS if m.name == "dnbr"), rows) == ""


def test_no_simulated_landslide_set_without_backgrounds(tmp_path) -> None:  # noqa: ANN001
    from eval.landslide_scenes import landslide_dataset

    assert landslide_dataset(tmp_path / "no-data", tmp_path / "none") is None


def test_simulated_landslide_set_and_index_row(provider, shared_data, tmp_path) -> None:  # noqa: ANN001
    """The held-out landslide scenes are generated from the shared backgrounds and scored like real cases."""
    from eval.landslide_scenes import landslide_dataset
    from eval.run import run_method
    from osgeo import gdal

    dataset = landslide_dataset(shared_data, tmp_path / "scenes")
    assert dataset is not None and dataset.kind == "landslide_sim" and len(dataset.cases) == 11
    label = gdal.Open(dataset.cases[0].label).ReadAsArray()
    assert (label == 1).any() and set(np.unique(label)) <= {0, 1, 255}
    before = gdal.Open(dataset.cases[0].inputs["before"])
    names = [before.GetRasterBand(i + 1).GetDescription() for i in range(before.RasterCount)]
    assert names == ["B02", "B03", "B04", "B08", "B11", "B12"]
    index = next(m for m in METHODS if m.name == "landslide")
    row = run_method(dataset, index, tmp_path)
    assert row["cases"] == 11 and "failed" not in row and 0.2 < row["f1"] < 0.6, row


def test_constructed_vegetation_loss_set_and_row(provider, shared_data, tmp_path) -> None:  # noqa: ANN001
    """Clear-cuts of real open-ground spectra in real forest; the row scores the default method."""
    from eval.run import run_method
    from eval.vegetation_scenes import vegetation_dataset
    from osgeo import gdal

    assert vegetation_dataset(tmp_path / "no-data", tmp_path / "none") is None
    dataset = vegetation_dataset(shared_data, tmp_path / "scenes")
    assert dataset is not None and dataset.kind == "vegetation_loss_real" and len(dataset.cases) == 3
    label = gdal.Open(dataset.cases[0].label).ReadAsArray()
    assert 0.02 < (label == 1).mean() < 0.2 and set(np.unique(label)) <= {0, 1, 255}
    row = run_method(dataset, next(m for m in METHODS if m.name == "vegetation_loss"), tmp_path)
    assert row["cases"] == 3 and "failed" not in row and row["f1"] > 0.8, row
