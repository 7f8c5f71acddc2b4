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

## Screenshots of the panel and of QGIS with a result, under Xvfb (build/screenshots/*.png).
.PHONY: screenshots
screenshots: $(VENV)/.ready
	mkdir -p build/qgis-profile
	QT_QPA_PLATFORM=xcb CHANGELENS_SHOTS=build/screenshots xvfb-run -a -s "-screen 0 1600x1000x24" qgis --noplugins \
		--nologo --noversioncheck --profiles-path build/qgis-profile --code tools/panel_screenshots.py
	CHANGELENS_SHOTS=build/screenshots/offscreen $(PY) tools/panel_screenshots.py
