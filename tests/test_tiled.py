"""One pair split into tiles on a real Dask ``LocalCluster`` (2 worker processes): every raster pixel for pixel,
the class areas, polygons, table, report and threshold equal the single run's, for every method; a failing tile
leaves no output; the command line's ``--tile-px``."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pytest
from changelens.cli.app import main
from changelens.core.errors import ChangeLensError
from changelens.core.methods import method_by_id
from changelens.core.runner import run_declared
from changelens.core.tiled import TileConfig, TiledPass, tile_windows
from changelens.core.values import request_from_values
from outputs_compare import assert_same_raster, assert_same_vector, normalised_report, run_cli
from rasters import write_raster
from scenes import BARE, S2_VNIR, VEGETATION, WATER, burn_scene

distributed = pytest.importorskip("distributed")

ROWS, COLS, TILE_PX = 260, 300, 128  # tiles that do not divide the grid: 3 x 3, the last ones 44 and 4 px
SHARED = {"OUTPUT_POLYGONS": "polygons.gpkg", "OUTPUT_STATS": "stats.csv", "OUTPUT_REPORT": "report.html"}


@pytest.fixture(scope="module")
def client():  # noqa: ANN201
    """A real LocalCluster: 2 worker processes of 1 thread."""
    local = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    dask = distributed.Client(local)
    yield dask
    dask.close()
    local.close()


def _s2(folder: Path, name: str, patches: tuple = (), seed: int = 0) -> str:
    """A textured 5-band Sentinel-2-like image (DN) of ROWS x COLS, vegetation with ``(rows, cols), values``
    patches."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ROWS, 0:COLS].astype(np.float32)
    texture = 1 + 0.05 * np.sin(xx / 9.0) * np.cos(yy / 7.0)
    img = np.stack([np.full((ROWS, COLS), v, np.float32) * texture for v in VEGETATION])
    for (rows, cols), values in patches:
        img[:, rows, cols] = np.array(values, np.float32)[:, None, None]
    img += rng.normal(0, 40, img.shape).astype(np.float32)
    return write_raster(folder / name, img, descriptions=list(S2_VNIR))


def _dem(folder: Path) -> str:
    dem = np.tile(np.arange(COLS, dtype=np.float32) * 0.1, (ROWS, 1))
    dem[:, 200:] += np.arange(COLS - 200, dtype=np.float32) * 5.0  # steep slopes on the right
    return write_raster(folder / "dem.tif", dem)


def _scene(method: str, folder: Path) -> tuple[dict, dict]:
    """Inputs and options of one method on a ROWS x COLS scene, and its raster outputs (file names)."""
    patch = ((slice(60, 200), slice(90, 240)), BARE)
    if method == "burnseverity":
        pre, post = burn_scene(folder, rows=ROWS, cols=COLS)
        return {"PRE": pre, "POST": post, "MIN_AREA_M2": 500, "RADIOMETRY": "s2_dn"}, {
            "OUTPUT_DNBR": "dnbr.tif", "OUTPUT_SEVERITY": "severity.tif", "OUTPUT_RDNBR": "rdnbr.tif",
        }  # fmt: skip
    if method == "sarflood":
        rng = np.random.default_rng(0)
        before = np.stack([np.full((ROWS, COLS), -8, np.float32), np.full((ROWS, COLS), -15, np.float32)])
        before += rng.normal(0, 1.5, before.shape).astype(np.float32)
        before[:, :, 120:135] -= 14  # a river across every tile row
        after = before.copy()
        after[:, 130:, 60:250] -= 14  # the lower half flooded
        b = write_raster(folder / "s1_before.tif", before, descriptions=["VV", "VH"])
        a = write_raster(folder / "s1_after.tif", after, descriptions=["VV", "VH"])
        return {"BEFORE": b, "AFTER": a, "DEM": _dem(folder), "FILTER": "refined_lee", "MIN_AREA_M2": 500}, {
            "OUTPUT": "flood.tif", "OUTPUT_MEASURE": "logratio.tif",
        }  # fmt: skip
    if method == "opticalflood":
        water = ((slice(100, 230), slice(30, 280)), WATER)
        river = ((slice(None), slice(0, 6)), WATER)
        before, after = _s2(folder, "before.tif", (river,), 1), _s2(folder, "after.tif", (river, water), 2)
        return {"BEFORE": before, "AFTER": after, "EIGHT_CONNECTED": True}, {
            "OUTPUT": "flood.tif", "OUTPUT_INDEX": "index.tif",
        }  # fmt: skip
    if method == "landslide":
        before, after = _s2(folder, "before.tif", (), 1), _s2(folder, "after.tif", (patch,), 2)
        return {"BEFORE": before, "AFTER": after, "DEM": _dem(folder), "MIN_AREA": 300}, {
            "OUTPUT": "slides.tif", "OUTPUT_NDVI_DROP": "drop.tif",
        }  # fmt: skip
    if method == "cva":
        date1, date2 = _s2(folder, "t1.tif", (), 1), _s2(folder, "t2.tif", (patch,), 2)
        return {"DATE1": date1, "DATE2": date2, "BANDS": "B3,B4,B8", "THRESHOLD_METHOD": "otsu", "SMOOTH": 5}, {
            "OUTPUT": "change.tif", "OUTPUT_MAGNITUDE": "magnitude.tif",
        }  # fmt: skip
    before, after = _s2(folder, "before.tif", (), 1), _s2(folder, "after.tif", (patch,), 2)
    return {"BEFORE": before, "AFTER": after, "MIN_AREA_M2": 400}, {
        "OUTPUT": "loss.tif", "OUTPUT_NDMI_DROP": "ndmi_drop.tif", "OUTPUT_NDVI_DROP": "ndvi_drop.tif",
    }  # fmt: skip


def _run(method, inputs: dict, outputs: dict, folder: Path, second_pass=None):  # noqa: ANN001, ANN202
    folder.mkdir()
    values = {**inputs, **{name: str(folder / file_name) for name, file_name in outputs.items()}}
    request, destinations = request_from_values(method, values)
    return run_declared(method, request, destinations, second_pass=second_pass)


def _leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(".")]


def test_tiles_cover_the_grid_once() -> None:
    tiles = tile_windows(COLS, ROWS, TILE_PX)
    assert len(tiles) == 9 and sum(t.size for t in tiles) == ROWS * COLS
    assert (tiles[-1].width, tiles[-1].height) == (44, 4)


@pytest.mark.parametrize(
    "method_id", ["burnseverity", "cva", "opticalflood", "sarflood", "landslide", "vegetationloss"]
)
def test_a_tiled_run_gives_the_single_run_outputs(client, method_id: str, tmp_path) -> None:  # noqa: ANN001
    method = method_by_id(method_id)
    inputs, rasters = _scene(method_id, tmp_path)
    outputs = {**rasters, **SHARED}
    one = _run(method, inputs, outputs, tmp_path / "one")
    tiled = _run(method, inputs, outputs, tmp_path / "tiled", TiledPass(client, TileConfig(tile_px=TILE_PX)))
    assert sorted(os.listdir(tmp_path / "one")) == sorted(os.listdir(tmp_path / "tiled"))
    assert not _leftovers(tmp_path / "tiled")
    for file_name in rasters.values():
        if (tmp_path / "one" / file_name).exists():
            assert_same_raster(str(tmp_path / "one" / file_name), str(tmp_path / "tiled" / file_name))
    assert one.product.threshold == tiled.product.threshold
    assert one.product.stats.pixels == tiled.product.stats.pixels
    assert one.product.stats.area_m2 == tiled.product.stats.area_m2  # exactly: same blocks, same order
    assert one.result.rows() == tiled.result.rows()
    mapped = [v for k, v in one.product.stats.pixels.items() if k in one.product.scheme.mapped_values]
    assert sum(mapped) > 0, "the scene maps nothing: the comparison would prove little"
    assert_same_vector(str(tmp_path / "one" / "polygons.gpkg"), str(tmp_path / "tiled" / "polygons.gpkg"))
    assert (tmp_path / "one" / "stats.csv").read_text() == (tmp_path / "tiled" / "stats.csv").read_text()
    assert normalised_report(str(tmp_path / "one" / "report.html"), str(tmp_path / "one")) == normalised_report(
        str(tmp_path / "tiled" / "report.html"), str(tmp_path / "tiled")
    )


class LostInputs(TiledPass):
    """The tiled pass, once the inputs are opened here: the workers find them gone (as on a machine that
    does not see this one's files)."""

    def __call__(self, second, out, stats, progress) -> None:  # noqa: ANN001
        for path in second.request.images.values():
            if path:
                os.remove(path)
        super().__call__(second, out, stats, progress)


def test_a_failing_tile_leaves_no_output(client, tmp_path) -> None:  # noqa: ANN001
    inputs, rasters = _scene("burnseverity", tmp_path)
    outputs = {**rasters, **SHARED}
    with pytest.raises(ChangeLensError) as raised:
        _run(method_by_id("burnseverity"), inputs, outputs, tmp_path / "out", LostInputs(client, TileConfig(TILE_PX)))
    del raised  # its traceback holds the run's GDAL datasets: free them now, not at interpreter exit
    gc.collect()
    assert os.listdir(tmp_path / "out") == []


def test_the_command_line_runs_tiles_on_a_local_cluster(tmp_path) -> None:  # noqa: ANN001
    inputs, rasters = _scene("burnseverity", tmp_path)
    one = _run(method_by_id("burnseverity"), inputs, {**rasters, **SHARED}, tmp_path / "one")
    args = ["burnseverity", "--quiet", "--output-dir", tmp_path / "tiled", "--tile-px", TILE_PX, "--workers", 2]
    (tmp_path / "tiled").mkdir()
    done = run_cli([*args, "--pre", inputs["PRE"], "--post", inputs["POST"], "--min-area-m2", 500])
    assert done.returncode == 0, done.stderr + done.stdout
    for name in ("dnbr.tif", "severity.tif"):
        assert_same_raster(str(tmp_path / "one" / name), str(tmp_path / "tiled" / name))
    assert_same_vector(str(tmp_path / "one" / "polygons.gpkg"), str(tmp_path / "tiled" / "polygons.gpkg"))
    assert one.product.threshold is None or f"{one.product.threshold:.4g}" in done.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--tile-px", "128"], "--tile-px needs a cluster"), (["--workers", "2"], "go with --tile-px"),
     (["--tile-px", "10", "--workers", "2"], "at least 64")],
)  # fmt: skip
def test_tile_options_that_do_not_go_together_are_bad_input(tmp_path, capsys, extra, message) -> None:  # noqa: ANN001
    inputs, _ = _scene("burnseverity", tmp_path)
    code = main(
        ["burnseverity", "--pre", inputs["PRE"], "--post", inputs["POST"], "--output-dir", str(tmp_path), *extra]
    )
    assert code == 2 and message in capsys.readouterr().err
