# ChangeLens developer commands. `make test` is the one CI runs.
SYS_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: test test-qgis check-qt6 check-pip lint package bench bench-polygonize clean eval demo models check-models

$(VENV)/.ready: requirements-test.txt tools/bootstrap.sh
	bash tools/bootstrap.sh $(VENV)
	touch $@

## Run the whole test suite headless (installs QGIS and the venv when missing).
test: $(VENV)/.ready
	$(VENV)/bin/pytest -q tests

## The whole suite on another QGIS in a cached Debian chroot (QGIS=3.40: trixie, QGIS=3.44: sid; needs root).
## Built on first use under $$CHANGELENS_QGIS_ENVS (default ~/.cache/changelens-qgis); PYTEST="..." passes arguments.
QGIS ?= 3.40
PYTEST ?= -q tests
test-qgis:
	bash tools/qgis_env.sh test $(QGIS) $(PYTEST)

## Fail on Qt5-only API (exec_, unscoped enums, removed classes): QGIS 4 runs on Qt6.
check-qt6:
	$(SYS_PYTHON) tools/check_qt6.py

## `pip install .` into a fresh venv where QGIS cannot be imported; `changelens --help`, one run, exit code 2 on bad input.
check-pip:
	bash tools/check_pip_install.sh

## Bundled ONNX models load, validate, match their cards' sha256 and map a known fixture (in `make test`).
check-models: $(VENV)/.ready
	$(VENV)/bin/pytest -q tests/test_bundled_models.py

## Retrain all bundled models from scratch on CPU (torch in .venv-train; DATA=<shared data folder>).
models:
	bash training/make_models.sh $(abspath $(DATA))

## Static checks.
lint: $(VENV)/.ready
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Plugin zip with runtime files only (build/changelens-<version>.zip).
package:
	$(SYS_PYTHON) tools/package.py

## Benchmarks (not timed tests): memory and speed on large generated rasters. OUT=<file.json>
OUT ?= build/bench.json
bench: $(VENV)/.ready
	$(PY) tools/bench_dnbr.py --out $(OUT)
	nice -n 10 $(PY) tools/bench_inference.py --out $(OUT)

## Polygons + statistics from a generated 10980 x 10980 class raster (>= 100 000 regions): time and peak RSS.
bench-polygonize:
	nice -n 10 $(SYS_PYTHON) tools/bench_polygonize.py --out build/bench_polygonize.json

## Score the algorithms through QGIS Processing on labelled real data. DATA=<root> OUT=<file.json>
DATA ?= ../shared/data
EVAL_OUT ?= build/eval.json
eval: $(VENV)/.ready
	nice -n 10 $(PY) tools/eval/run.py --data $(DATA) --out $(if $(filter command line,$(origin OUT)),$(OUT),$(EVAL_OUT)) $(if $(ONLY),--only $(ONLY))

## Generate a seeded before/after scene, run every algorithm with qgis_process.bin, write demo-output/.
demo: $(VENV)/.ready
	$(PY) tools/demo/run_demo.py --out demo-output

clean:
	rm -rf build .pytest_cache .ruff_cache .plugin_path demo-output
