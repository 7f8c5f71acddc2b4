"""Acceptance on real fires: dNBR > 0.1 vs CAL FIRE perimeters, run through qgis_process.bin."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from osgeo import gdal
from qgis_process_runner import run_algorithm


def test_pooled_f1_on_burned_prepost(shared_data, qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    events = sorted(p for p in (shared_data / "burned" / "prepost").iterdir() if (p / "mask.tif").exists())
    if not events:
        pytest.skip("no burned/prepost events")
    tp = fp = fn = 0
    for event in events:
        out = tmp_path / f"{event.name}_dnbr.tif"
        # qgis_process itself loads inputs as layers and caches a histogram in an .aux.xml
        # beside them: run on copies so the shared data stays untouched.
        pre, post = tmp_path / f"{event.name}_pre.tif", tmp_path / f"{event.name}_post.tif"
        shutil.copyfile(event / "pre.tif", pre)
        shutil.copyfile(event / "post.tif", post)
        code, _payload, log = run_algorithm(
            qgis_process_env,
            "changelens:burnseverity",
            {
                "RADIOMETRY": 1,  # the shared fires hold reflectance x 10000, no offset (data README)
                "PRE": pre,
                "POST": post,
                "OUTPUT_DNBR": out,
                "OUTPUT_SEVERITY": tmp_path / f"{event.name}_sev.tif",
            },
        )
        assert code == 0, log
        dnbr_ds = gdal.Open(str(out))
        mask_ds = gdal.Open(str(event / "mask.tif"))
        # Read the mask on the output grid (the pre grid cropped to the overlap).
        mask = gdal.Warp(
            "",
            mask_ds,
            format="MEM",
            outputBounds=_bounds(dnbr_ds),
            width=dnbr_ds.RasterXSize,
            height=dnbr_ds.RasterYSize,
            resampleAlg="near",
        ).ReadAsArray()
        dnbr = dnbr_ds.ReadAsArray()
        valid = np.isfinite(dnbr)
        pred, truth = (dnbr > 0.1) & valid, (mask == 1) & valid
        tp += int((pred & truth).sum())
        fp += int((pred & ~truth).sum())
        fn += int((~pred & truth).sum())
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.70, f"pooled F1 {f1:.3f} over {len(events)} fires"


def _bounds(ds: gdal.Dataset) -> tuple[float, float, float, float]:
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    return x0, y0 + dy * ds.RasterYSize, x0 + dx * ds.RasterXSize, y0
