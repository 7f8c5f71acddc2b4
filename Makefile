# ChangeLens developer commands. `make test` is the one CI runs.
SYS_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: test lint package bench clean

$(VENV)/.ready: requirements-test.txt tools/bootstrap.sh
	bash tools/bootstrap.sh $(VENV)
	touch $@

## Run the whole test suite headless (installs QGIS and the venv when missing).
test: $(VENV)/.ready
	$(VENV)/bin/pytest -q tests

## Static checks.
lint: $(VENV)/.ready
	$(VENV)/bin/ruff check .

## Plugin zip with runtime files only (build/changelens-<version>.zip).
package:
	$(SYS_PYTHON) tools/package.py

## Benchmarks (not timed tests): memory and speed on large generated rasters. OUT=<file.json>
OUT ?= build/bench.json
bench: $(VENV)/.ready
	$(PY) tools/bench_dnbr.py --out $(OUT)

clean:
	rm -rf build .pytest_cache .ruff_cache .plugin_path
