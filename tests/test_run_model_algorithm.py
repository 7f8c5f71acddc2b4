"""'Run ONNX model' and 'Edit ONNX model metadata' through Processing and qgis_process.bin."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime  # the real package, imported before anything can shadow it
import pytest
from changelens.core.models.onnx_file import read_metadata_props
from changelens.core.outputs.polygons import measure_field_name
from onnx_models import base_metadata, identity_model, layout_model
from qgis.core import QgsProcessingException, QgsRasterLayer, QgsVectorLayer
from qgis_process_runner import run_algorithm
from rasters import read, write_raster

RUN = "changelens:runmodel"
EDIT = "changelens:editmodelmetadata"
RNG = np.random.default_rng(7)


def _run(alg: str, params: dict) -> dict:
    import processing

    return processing.run(alg, params)


def _pair(tmp_path):  # noqa: ANN001, ANN202
    before = RNG.random((1, 40, 50)).astype(np.float32)
    after = before.copy()
    after[0, :20] += 1.0  # top half changes
    a = write_raster(tmp_path / "before.tif", before, descriptions=["VV"])
    b = write_raster(tmp_path / "after.tif", after, descriptions=["VV"])
    return a, b, after


def test_run_two_date_model(provider, tmp_path) -> None:  # noqa: ANN001
    a, b, after = _pair(tmp_path)
    model = layout_model(tmp_path / "m.onnx", "separate", base_metadata(layout="separate", bands=["VV"]))
    out = _run(
        RUN,
        {
            "MODEL_FILE": model,
            "IMAGE": a,
            "AFTER": b,
            "TILE_SIZE": 16,
            "TILE_OVERLAP": 4,
            "THREADS": 1,
            "OUTPUT_CLASSES": str(tmp_path / "c.tif"),
            "OUTPUT_PROBABILITY": str(tmp_path / "p.tif"),
            "OUTPUT_POLYGONS": str(tmp_path / "changes.gpkg"),
            "OUTPUT_STATS": str(tmp_path / "areas.csv"),
            "OUTPUT_REPORT": str(tmp_path / "report.html"),
        },
    )
    classes = read(out["OUTPUT_CLASSES"])
    assert (classes[:20] == 1).all() and (classes[20:] == 0).all()
    assert np.allclose(read(out["OUTPUT_PROBABILITY"]), after[0], atol=1e-6)
    assert out["MAPPED_AREA_HA"] == pytest.approx(20 * 50 * 100 / 1e4)
    # The shared outputs: one change polygon of 10 ha with its mean probability, the area table, the report.
    polygons = QgsVectorLayer(out["OUTPUT_POLYGONS"], "p", "ogr")
    features = list(polygons.getFeatures())
    assert out["POLYGON_COUNT"] == 1 and len(features) == 1
    assert features[0]["class_name"] == "change" and features[0]["area_ha"] == pytest.approx(10.0)
    field = measure_field_name("probability of change")
    assert features[0][field] == pytest.approx(float(after[0, :20].mean()), abs=1e-4)
    assert "change" in open(out["OUTPUT_STATS"]).read()
    report = open(out["OUTPUT_REPORT"], encoding="utf-8").read()
    assert "test model" in report and "CPUExecutionProvider" in report
    assert out["VALID_AREA_HA"] == pytest.approx(40 * 50 * 100 / 1e4)
    layer = QgsRasterLayer(out["OUTPUT_CLASSES"], "c")
    assert layer.renderer().type() == "paletted"
    assert [c.label for c in layer.renderer().classes()] == ["no change", "change"]


def test_run_model_errors_are_one_sentence_and_leave_no_output(provider, tmp_path) -> None:  # noqa: ANN001
    a, _b, _ = _pair(tmp_path)
    model = identity_model(tmp_path / "m.onnx")  # needs B04 and B08
    params = {"MODEL_FILE": model, "IMAGE": a, "OUTPUT_CLASSES": str(tmp_path / "out_c.tif")}
    with pytest.raises(QgsProcessingException, match=r"lacks band\(s\) B04, B08 that model 'test model' needs"):
        _run(RUN, params)
    with pytest.raises(QgsProcessingException, match=r"needs 2 band\(s\) \(B04, B08\) but 1 band number"):
        _run(RUN, dict(params, BANDS="1"))
    with pytest.raises(QgsProcessingException, match="Choose a model"):
        _run(RUN, dict(params, MODEL_FILE=None))
    with pytest.raises(QgsProcessingException, match="not offered by the installed onnxruntime"):
        _run(RUN, dict(params, DEVICE=1))  # CUDA on a CPU-only onnxruntime
    assert not [p for p in os.listdir(tmp_path) if p.startswith(("out_", ".out_"))]


def test_missing_onnxruntime_explains_how_to_install(provider, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from changelens.core.models import runtime

    a, _b, _ = _pair(tmp_path)
    model = identity_model(tmp_path / "m.onnx")
    runtime.clear_sessions()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now raises ImportError
    with pytest.raises(QgsProcessingException) as info:
        _run(RUN, {"MODEL_FILE": model, "IMAGE": a, "OUTPUT_CLASSES": str(tmp_path / "c.tif")})
    message = str(info.value)
    assert message.startswith("Running models needs the onnxruntime package") and message.count(". ") == 0
    assert "-m pip install onnxruntime" in message and "restart QGIS" in message
    assert not (tmp_path / "c.tif").exists()


def test_provider_loads_without_onnxruntime() -> None:
    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        f"sys.path.insert(0, {str(os.path.join(os.path.dirname(os.path.dirname(__file__)), '.plugin_path'))!r})\n"
        "from qgis.core import QgsApplication\n"
        "app = QgsApplication([], False); app.initQgis()\n"
        "from changelens.processing.provider import ChangeLensProvider\n"
        "p = ChangeLensProvider(); QgsApplication.processingRegistry().addProvider(p)\n"
        "print(sorted(a.id() for a in p.algorithms()))\n"
        "print('onnxruntime' in sys.modules and sys.modules['onnxruntime'] is not None)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "changelens:runmodel" in lines[-2] and "changelens:editmodelmetadata" in lines[-2]
    assert lines[-1] == "False"


def test_edit_metadata_makes_a_bare_export_runnable(provider, tmp_path) -> None:  # noqa: ANN001
    bare = identity_model(tmp_path / "bare.onnx", 2, bare=True)
    raster = write_raster(tmp_path / "img.tif", RNG.random((3, 20, 20)).astype(np.float32))
    with pytest.raises(QgsProcessingException, match="has no ChangeLens metadata"):
        _run(RUN, {"MODEL_FILE": bare, "IMAGE": raster, "OUTPUT_CLASSES": str(tmp_path / "c.tif")})
    out = _run(
        EDIT,
        {
            "MODEL": bare,
            "METADATA_JSON": json.dumps(
                {"preprocessing": {"*": {"scale": 2.0}}, "output": {"kind": "probabilities"}, "license": "CC0"}
            ),
            "NAME": "bare export",
            "TASK": 2,  # segmentation
            "BANDS": "3, 1",
            "CLASSES": "background, target",
            "TILE_SIZE": 16,
            "TILE_OVERLAP": 4,
            "OUTPUT": str(tmp_path / "ready.onnx"),
        },
    )
    assert "Model 'bare export' (segmentation" in out["SUMMARY"]
    props = read_metadata_props(out["OUTPUT"])
    assert json.loads(props["bands"]) == [3, 1] and read_metadata_props(bare) == {}
    ran = _run(
        RUN,
        {
            "MODEL_FILE": out["OUTPUT"],
            "IMAGE": raster,
            "OUTPUT_CLASSES": str(tmp_path / "c.tif"),
            "OUTPUT_PROBABILITY": str(tmp_path / "p.tif"),
        },
    )
    assert np.allclose(read(ran["OUTPUT_PROBABILITY"]), 2.0 * read(raster)[0], atol=1e-6)
    with pytest.raises(QgsProcessingException, match="takes 2 channels but its metadata gives 3"):
        _run(EDIT, {"MODEL": out["OUTPUT"], "BANDS": "1,2,3", "OUTPUT": str(tmp_path / "bad.onnx")})
    assert not (tmp_path / "bad.onnx").exists()


def _with_onnxruntime(env: dict[str, str]) -> dict[str, str]:
    """qgis_process runs the system Python: let it see the test venv's onnxruntime."""
    site = os.path.dirname(os.path.dirname(onnxruntime.__file__))
    return dict(env, PYTHONPATH=os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p))


def test_qgis_process_run_model(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    a, b, _after = _pair(tmp_path)
    model = layout_model(tmp_path / "m.onnx", "concat", base_metadata(layout="concat", bands=["VV"]))
    params = {"MODEL_FILE": model, "IMAGE": a, "AFTER": b, "TILE_SIZE": 16, "OUTPUT_CLASSES": tmp_path / "c.tif"}
    code, payload, log = run_algorithm(_with_onnxruntime(qgis_process_env), RUN, params)
    assert code == 0, log
    assert payload["results"]["MAPPED_AREA_HA"] == pytest.approx(10.0)
    classes = read(tmp_path / "c.tif")
    assert (classes[:20] == 1).all() and (classes[20:] == 0).all()
    assert "CPUExecutionProvider" in log
    layer = QgsRasterLayer(str(tmp_path / "c.tif"), "c")
    assert layer.renderer().type() == "paletted" and len(layer.renderer().classes()) == 2


def test_qgis_process_without_onnxruntime(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    a, _b, _after = _pair(tmp_path)
    model = identity_model(tmp_path / "m.onnx")
    env = dict(qgis_process_env, PYTHONPATH="")
    probe = subprocess.run(["/usr/bin/python3", "-c", "import onnxruntime"], env=env, capture_output=True)
    if probe.returncode == 0:
        pytest.skip("onnxruntime is installed for the system Python")
    code, _payload, log = run_algorithm(
        env, RUN, {"MODEL_FILE": model, "IMAGE": a, "OUTPUT_CLASSES": tmp_path / "c.tif"}
    )
    assert code != 0
    assert "Running models needs the onnxruntime package, which is not installed for this QGIS: run" in log
    assert "-m pip install" in log and not (tmp_path / "c.tif").exists()
