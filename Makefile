# camwall — every target sets up what it needs (.venv, packages) and is safe to re-run.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOQT := .venv-noqt
NOQT_STAMP := $(NOQT)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: demo test lint pytest pytest-pyqt5 pytest-pyqt6 noqt system-deps wall-deps bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "camwall needs Python 3.11 or newer; found $$($(PYTHON) --version)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(STAMP) wall-deps
	QT_QPA_PLATFORM= $(BIN)/camwall demo

# The whole suite: lint, the tests under PySide6, the Qt tests again under PyQt5 and PyQt6,
# then a headless node installed with no Qt at all.
test: $(STAMP) system-deps lint pytest pytest-pyqt5 pytest-pyqt6 noqt

system-deps:
	@scripts/system-deps

# The X11 libraries Qt's window needs (installed as root, else named).
wall-deps:
	@scripts/system-deps --wall

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts/*.py
	$(BIN)/ruff format --check src tests bench scripts/*.py
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

pytest-pyqt5: $(STAMP)
	QT_API=pyqt5 $(BIN)/python -m pytest -m qt $(PYTEST_ARGS)

pytest-pyqt6: $(STAMP)
	QT_API=pyqt6 $(BIN)/python -m pytest -m qt $(PYTEST_ARGS)

# A venv with camwall and no Qt binding: `camwall check`, `camwall run --headless` recording
# a file camera, and the core tests (the UI tests are not collected there).
$(NOQT_STAMP): pyproject.toml
	test -x $(NOQT)/bin/python || $(PYTHON) -m venv $(NOQT)
	$(NOQT)/bin/python -m pip install --quiet --upgrade pip
	$(NOQT)/bin/python -m pip install --quiet ".[detect,onvif,mqtt]" pytest pytest-timeout hypothesis onnx
	touch $@

noqt: $(NOQT_STAMP)
	$(NOQT)/bin/python scripts/noqt_check.py
	$(NOQT)/bin/python -m pytest -p no:cacheprovider -m "not qt" \
		$(addprefix tests/,$(NOQT_TESTS)) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/camwall bench

# The core tests a node without Qt must pass.
NOQT_TESTS ?= test_import_contracts.py test_frames_ring.py test_runtime.py test_cli_run.py \
	test_capture_supervisor.py test_record_segments.py test_config_roundtrip.py

clean:
	rm -rf $(VENV) $(NOQT) .pytest_cache .mypy_cache .ruff_cache
