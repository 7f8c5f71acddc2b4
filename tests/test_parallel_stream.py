"""The threaded block pipeline: the same pixels, areas and thresholds as one thread; a cancel or a
failure on any thread keeps no output; worker threads read through their own GDAL handles."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from changelens.core.engine.parallel import ENV_WORKERS, StreamConfig, run_ordered
from changelens.core.engine.stream import stream
from changelens.core.engine.threshold import Sampler
from changelens.core.errors import CancelledError
from changelens.core.gdal_state import gdal_exceptions
from changelens.core.io.grid import align_many, grid_of
from changelens.core.io.handles import ThreadReaders, reopen
from changelens.core.io.raster import BandReader, open_raster
from changelens.core.io.windows import Window, block_windows
from changelens.core.methods import method_by_id
from changelens.core.methods.declaration import RunRequest
from changelens.core.outputs.writer import OutputSet, RasterOutput
from changelens.core.pipeline import run_method
from osgeo import gdal
from rasters import read, write_raster
from scenes import S2_BANDS, burn_scene

ROWS, COLS = 700, 300  # three 256-row blocks
SHIFTED = (500005.0, 10.0, 0.0, 5100005.0, 0.0, -10.0)  # half a pixel off: the second date is warped


def _noisy(shape: tuple[int, ...], seed: int, loc: float, spread: float) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, spread, shape).astype(np.float32)


def _scenes(folder: Path) -> dict[str, tuple[dict[str, str], dict[str, str], dict[str, object]]]:
    """Inputs, outputs and parameters of each index method on a scene of several blocks."""
    pre, post = burn_scene(folder, ROWS, COLS)
    post_shifted = write_raster(folder / "post_shifted.tif", read(post).astype(np.float32), geotransform=SHIFTED,
                                descriptions=S2_BANDS)  # fmt: skip
    sar = []
    for name, drop in (("s1_before.tif", 0.0), ("s1_after.tif", 12.0)):
        vv = _noisy((ROWS, COLS), len(name), -9.0, 2.0)
        vv[ROWS // 2 :, COLS // 3 :] -= drop
        vv[:20, :20] = np.nan
        sar.append(write_raster(folder / name, np.stack([vv, vv - 6.0]), descriptions=["VV", "VH"]))
    optical = []
    for name, water in (("o_before.tif", 0), ("o_after.tif", ROWS // 2)):
        img = np.stack([_noisy((ROWS, COLS), i + water, v, 40.0) for i, v in enumerate((500, 800, 600, 3000, 2000))])
        img[:, water:, : COLS // 2] = np.array((600, 700, 500, 300, 200), np.float32)[:, None, None]
        optical.append(write_raster(folder / name, img, descriptions=["B2", "B3", "B4", "B8", "B11"]))
    out = lambda *keys: {k: str(folder / f"{{run}}_{k}.tif") for k in keys}  # noqa: E731
    return {
        "burnseverity": ({"before": pre, "after": post_shifted}, out("dnbr", "severity", "rdnbr", "rbr"), {}),
        "sarflood": ({"before": sar[0], "after": sar[1]}, out("classes", "measure"), {}),
        "opticalflood": ({"before": optical[0], "after": optical[1]}, out("classes", "index"), {}),
        "cva": ({"before": pre, "after": post}, out("classes", "magnitude"), {"BANDS": "B3,B4,B8,B12"}),
    }


def _run(method_id: str, scene: tuple, run: str) -> tuple[dict[str, np.ndarray], object]:
    images, outputs, params = scene
    method = method_by_id(method_id)
    paths = {k: v.format(run=run) for k, v in outputs.items()}
    product = run_method(method, RunRequest(images, method.build_config(params), paths))
    return {k: read(p) for k, p in paths.items()}, product


@pytest.mark.parametrize("method_id", ["burnseverity", "sarflood", "opticalflood", "cva"])
def test_threaded_stream_gives_exactly_the_single_threaded_outputs(tmp_path, monkeypatch, method_id) -> None:  # noqa: ANN001
    scene = _scenes(tmp_path)[method_id]
    monkeypatch.setenv(ENV_WORKERS, "1")
    one, p1 = _run(method_id, scene, "one")
    monkeypatch.setenv(ENV_WORKERS, "3")
    three, p3 = _run(method_id, scene, "three")
    for key in one:
        assert one[key].dtype == three[key].dtype
        assert np.array_equal(one[key], three[key], equal_nan=True), key
        assert one[key].tobytes() == three[key].tobytes(), key
    assert p1.stats.pixels == p3.stats.pixels and p1.stats.area_m2 == p3.stats.area_m2
    assert p1.threshold == p3.threshold
    assert len(set(p1.stats.pixels.values())) > 1  # the scene maps more than one class


@pytest.mark.parametrize("method_id", ["burnseverity", "cva"])
def test_threaded_runs_mask_clouds_exactly_as_one_thread(tmp_path, monkeypatch, method_id) -> None:  # noqa: ANN001
    pre, post = burn_scene(tmp_path, ROWS, COLS)
    scl = np.full((ROWS, COLS), 4, np.float32)  # vegetation; a cloud across two blocks and a shadow
    scl[200:420, 40:180] = 9
    scl[600:640, :] = 3
    post_scl = write_raster(tmp_path / "post_scl.tif", np.concatenate([read(post), scl[None]]),
                            descriptions=[*S2_BANDS, "SCL"])  # fmt: skip
    images = {"before": pre, "after": post_scl}
    outputs = {"burnseverity": ("dnbr", "severity"), "cva": ("classes", "magnitude")}[method_id]
    scene = (images, {k: str(tmp_path / f"{{run}}_{k}.tif") for k in outputs}, {})
    monkeypatch.setenv(ENV_WORKERS, "1")
    one, p1 = _run(method_id, scene, "one")
    monkeypatch.setenv(ENV_WORKERS, "3")
    three, p3 = _run(method_id, scene, "three")
    for key in one:
        assert one[key].tobytes() == three[key].tobytes(), key
    assert p1.stats.pixels == p3.stats.pixels and p1.threshold == p3.threshold
    classes = one[outputs[1] if method_id == "burnseverity" else "classes"]
    assert (classes[200:420, 40:180] == 0).all() and (classes[600:640] == 0).all()  # clouds are no data
    assert (classes[:200] != 0).all()


def _source(tmp_path: Path, rows: int = ROWS) -> tuple:
    path = write_raster(tmp_path / "in.tif", _noisy((rows, COLS), 1, 0.0, 1.0))
    ds = open_raster(path)
    return grid_of(ds), {"x": BandReader(ds, 1)}


def _spec(tmp_path: Path, name: str) -> RasterOutput:
    return RasterOutput(str(tmp_path / name))


def _no_block_threads() -> bool:
    return not [t for t in threading.enumerate() if t.name.startswith("changelens-block")]


def test_failure_in_a_worker_leaves_no_output(tmp_path) -> None:  # noqa: ANN001
    grid, readers = _source(tmp_path)
    seen = []

    def compute(arrays, hw):  # noqa: ANN001, ANN202
        seen.append(threading.current_thread().name)
        if hw.core.row_off >= 256:
            raise RuntimeError("disk on fire")
        return {"a": arrays["x"]}

    with pytest.raises(RuntimeError, match="disk on fire"):
        with OutputSet(grid, {"a": _spec(tmp_path, "a.tif")}) as out:
            stream(grid, readers, compute, out, lambda f: True, config=StreamConfig(workers=2))
    assert all(name.startswith("changelens-block") for name in seen)
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]
    assert _no_block_threads()


def test_cancel_while_workers_run_leaves_no_output(tmp_path) -> None:  # noqa: ANN001
    grid, readers = _source(tmp_path, rows=2000)
    calls = []

    def progress(fraction: float) -> bool:
        calls.append(fraction)
        return len(calls) < 3

    with pytest.raises(CancelledError):
        with OutputSet(grid, {"a": _spec(tmp_path, "a.tif"), "b": _spec(tmp_path, "b.tif")}) as out:
            stream(grid, readers, lambda a, hw: {"a": a["x"], "b": a["x"]}, out, progress, config=StreamConfig(2, 2))
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]
    assert _no_block_threads()


def test_a_cancelled_run_through_the_pipeline_keeps_nothing(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(ENV_WORKERS, "2")
    images, outputs, params = _scenes(tmp_path)["sarflood"]
    paths = {k: v.format(run="x") for k, v in outputs.items()}
    before = set(os.listdir(tmp_path))
    method = method_by_id("sarflood")
    calls = []
    with pytest.raises(CancelledError):
        run_method(method, RunRequest(images, method.build_config(params), paths), progress=lambda f: len(calls) < 4
                   and not calls.append(f))  # fmt: skip
    assert set(os.listdir(tmp_path)) == before
    assert _no_block_threads()


def test_results_are_consumed_in_order_and_in_flight_blocks_are_bounded() -> None:
    running, most = [0], [0]
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        with lock:
            running[0] -= 1
        return i * i

    got: list[int] = []
    run_ordered(range(50), work, got.append, StreamConfig(workers=3, blocks_in_flight=4))
    assert got == [i * i for i in range(50)]
    assert most[0] <= 3


def test_workers_raise_gdal_errors_as_exceptions(tmp_path) -> None:  # noqa: ANN001
    flags = []

    def work(_i: int) -> None:
        flags.append(gdal.GetUseExceptions())
        gdal.Open(str(tmp_path / "missing.tif"))

    with gdal_exceptions():
        with pytest.raises(RuntimeError):
            run_ordered(range(4), work, lambda _r: None, StreamConfig(workers=2))
    assert flags and all(flags)


def test_thread_readers_reopen_files_and_views(tmp_path) -> None:  # noqa: ANN001
    pre, post = burn_scene(tmp_path, 60, 70)
    shifted = write_raster(tmp_path / "s.tif", read(post), geotransform=SHIFTED, descriptions=S2_BANDS)
    with gdal_exceptions():
        ref, other = open_raster(pre), open_raster(shifted)
        _grid, view, (warped,) = align_many(ref, [other])
        memory = gdal.GetDriverByName("MEM").CreateCopy("", ref)
        readers = {"file": BandReader(ref, 4), "warped": BandReader(other, 4, warped), "mem": BandReader(memory, 4)}
        assert reopen(warped) is not None and reopen(memory) is None
        local = ThreadReaders(readers)
        window = Window(3, 5, 40, 30)
        got: dict[str, dict[str, np.ndarray]] = {}

        def worker() -> None:
            with gdal_exceptions():
                mine = local.get()
                got[threading.current_thread().name] = {k: r.read(window) for k, r in mine.items()}
                assert mine["file"].pixels is not ref and mine["warped"].pixels is not warped
                assert mine["mem"].pixels is memory  # shared, behind a lock

        threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for values in got.values():
            for key, reader in readers.items():
                assert np.array_equal(values[key], reader.read(window), equal_nan=True), key
        local.close()
        del view


def test_the_sample_and_its_order_do_not_depend_on_the_block_width() -> None:
    image = _noisy((300, 9000), 5, 0.0, 1.0)
    image[::7, ::5] = np.nan
    expected = []  # what 4096 px blocks gave: each block's sampled pixels, row by row
    step = Sampler(9000, 300, max_values=20000).step
    for window in block_windows(9000, 300, 4096, 256):
        part = image[window.row_off : window.row_end, window.col_off : window.col_end]
        part = part[(-window.row_off) % step :: step, (-window.col_off) % step :: step]
        expected.append(part[np.isfinite(part)].ravel())
    for width in (4096, 2048, 1000, 9000, 333):
        sampler = Sampler(9000, 300, max_values=20000)
        for window in block_windows(9000, 300, width, 256):
            sampler.add("x", image[window.row_off : window.row_end, window.col_off : window.col_end], window.row_off,
                        window.col_off)  # fmt: skip
        assert sampler.values("x").tobytes() == np.concatenate(expected).tobytes(), width
