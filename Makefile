# ChangeLens developer commands. `make test` is the one CI runs.
SYS_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: test test-qgis check-qt6 check-pip lint package bench bench-methods bench-inference bench-models bench-polygonize clean eval demo models check-models

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

## Benchmarks (not timed tests), medians of interleaved repeats, machine load recorded, in OUT=<file.json>:
## every index method through qgis_process.bin vs qgis:rastercalculator and gdal_calc.py on generated
## 10980 px pairs (COMPARE=<older checkout> adds it as a side; NO_MMU=1 also without the 3 px sieve), a model run end to end vs bare session.run,
## and a full 10980 px Sentinel-2 pair through each bundled model. Scenes are kept in BENCH_DATA.
OUT ?= build/bench.json
BENCH_DATA ?= build/bench-data
bench: bench-methods bench-inference bench-models

bench-methods: $(VENV)/.ready
	$(PY) tools/bench_methods.py --out $(OUT) --workdir $(BENCH_DATA) $(if $(COMPARE),--compare-root $(COMPARE)) $(if $(NO_MMU),--without-mmu)

bench-inference: $(VENV)/.ready
	nice -n 10 $(PY) tools/bench_inference.py --out $(OUT)

bench-models: $(VENV)/.ready
	$(PY) tools/bench_bundled_models.py --out $(OUT) --workdir $(BENCH_DATA)

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
