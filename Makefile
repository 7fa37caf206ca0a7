# Two commands on a fresh machine:
#   make lab    set up .venv and open JupyterLab on the quickstart (make lab-headless: execute it to build/quickstart.html)
#   make test   set up .venv (+ Debian chromium) and run lint, type checks and the whole test suite,
#               then the engine and API tests on each other supported Python version (.ci/versions)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=

.PHONY: setup chromium lab lab-headless test lint typecheck unit versions ts-test bench bench-quick clean

$(VENV)/.installed: pyproject.toml labextension/package.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	# an editable install does not copy the prebuilt lab extension: link it
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter labextension develop --overwrite . >/dev/null
	touch $@

setup: $(VENV)/.installed

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/01_quickstart.ipynb

lab-headless: setup
	mkdir -p build
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
	  notebooks/01_quickstart.ipynb --output-dir build --output quickstart
	@echo "wrote build/quickstart.html"

lint: setup
	$(BIN)/ruff check codomyrmex_jupyter tests bench notebooks/make_notebooks.py
	$(PY) notebooks/make_notebooks.py --check

typecheck: setup
	$(BIN)/mypy

ts-test: setup
	cd labextension && npm test

unit: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Python 3.11, 3.12 and 3.13 are supported (pyproject's classifiers): the main venv
# runs everything; .venv-3.X run the engine and API tests (PyPI wheels, made once).
versions: setup
	bash .ci/versions

test: setup chromium lint typecheck ts-test unit versions

bench: setup
	$(PY) -m bench.run

bench-quick: setup
	$(PY) -m bench.run --quick --out build/BENCHMARKS-quick.md

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
