"""The streaming writer: styles travel with the file, cancel or failure leaves nothing."""

from __future__ import annotations

import os

import numpy as np
import pytest
from changelens.core.engine.stream import stream
from changelens.core.errors import CancelledError, OutputError
from changelens.core.io.grid import grid_of
from changelens.core.io.raster import BandReader, open_raster
from changelens.core.methods.burn import SEVERITY
from changelens.core.outputs.stats import ClassStats
from changelens.core.outputs.writer import OutputSet, RasterOutput
from osgeo import gdal
from rasters import write_raster


def _setup(tmp_path, size: int = 600):  # noqa: ANN001, ANN202
    src = write_raster(tmp_path / "in.tif", (np.arange(size * size, dtype=np.float32) % 7).reshape(1, size, size))
    ds = open_raster(src)
    return grid_of(ds), {"x": BandReader(ds, 1)}


def test_classified_output_carries_colours_names_and_qml(tmp_path) -> None:  # noqa: ANN001
    grid, readers = _setup(tmp_path, 300)
    out = str(tmp_path / "classes.tif")
    stats = ClassStats(SEVERITY)
    with OutputSet(grid, {"c": RasterOutput(out, "Byte", 0, "classes", SEVERITY)}) as outputs:
        stream(grid, readers, lambda a, hw: {"c": a["x"].astype(np.uint8)}, outputs, lambda f: True, {"c": stats})
    ds = gdal.Open(out)
    band = ds.GetRasterBand(1)
    assert band.GetNoDataValue() == 0
    assert band.GetRasterColorTable().GetColorEntry(7)[:3] == (0xA4, 0x1F, 0xD6)
    assert band.GetCategoryNames()[4] == "Low severity"
    assert ds.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
    assert band.GetBlockSize() == [256, 256]
    qml = open(os.path.splitext(out)[0] + ".qml").read()
    assert 'type="paletted"' in qml and 'label="High severity"' in qml
    expected = np.bincount((np.arange(300 * 300) % 7), minlength=8)
    assert stats.pixels[6] == expected[6] and stats.area_m2[6] == pytest.approx(expected[6] * 100.0)
    assert sorted(os.listdir(tmp_path)) == ["classes.qml", "classes.tif", "classes.tif.aux.xml", "in.tif"]


def test_cancel_leaves_no_file(tmp_path) -> None:  # noqa: ANN001
    grid, readers = _setup(tmp_path)
    calls = []

    def progress(fraction: float) -> bool:
        calls.append(fraction)
        return len(calls) < 3

    with pytest.raises(CancelledError):
        with OutputSet(
            grid, {"a": RasterOutput(str(tmp_path / "a.tif")), "b": RasterOutput(str(tmp_path / "b.tif"))}
        ) as o:
            stream(grid, readers, lambda a, hw: {"a": a["x"], "b": a["x"]}, o, progress)
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_failure_keeps_previous_output_untouched(tmp_path) -> None:  # noqa: ANN001
    grid, readers = _setup(tmp_path, 100)
    final = tmp_path / "a.tif"
    final.write_bytes(b"old")

    def boom(arrays, hw):  # noqa: ANN001, ANN202
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        with OutputSet(grid, {"a": RasterOutput(str(final))}) as o:
            stream(grid, readers, boom, o, lambda f: True)
    assert final.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "in.tif"]


def test_bad_output_folder(tmp_path) -> None:  # noqa: ANN001
    grid, _ = _setup(tmp_path, 10)
    with pytest.raises(OutputError, match="does not exist"):
        OutputSet(grid, {"a": RasterOutput(str(tmp_path / "missing" / "a.tif"))})


def test_output_that_cannot_be_moved_into_place_leaves_no_temporary_file(tmp_path) -> None:  # noqa: ANN001
    grid, readers = _setup(tmp_path, 10)
    (tmp_path / "b.tif").mkdir()  # a folder where the second output should go
    with pytest.raises(OutputError, match="Cannot write '.*b.tif'"):
        with OutputSet(
            grid, {"a": RasterOutput(str(tmp_path / "a.tif")), "b": RasterOutput(str(tmp_path / "b.tif"))}
        ) as o:
            stream(grid, readers, lambda a, hw: {"a": a["x"], "b": a["x"]}, o, lambda f: True)
    assert not [name for name in os.listdir(tmp_path) if "partial" in name]
