# camwall — every target sets up what it needs (.venv, packages) and is safe to re-run.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: demo test lint pytest pytest-pyqt5 system-deps bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "camwall needs Python 3.11 or newer; found $$($(PYTHON) --version)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/camwall demo

# The whole suite: lint, the tests under PySide6, then the Qt tests again under PyQt5.
test: $(STAMP) system-deps lint pytest pytest-pyqt5

system-deps:
	@scripts/system-deps

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

pytest-pyqt5: $(STAMP)
	QT_API=pyqt5 $(BIN)/python -m pytest -m qt $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/camwall bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
