# Two commands on a fresh machine:
#   make lab    set up .venv, copy the example notebooks to build/examples and open the quickstart
#               (make lab-headless: execute it into build/quickstart.html)
#   make test   set up .venv (+ Debian chromium) and run lint, type checks and the whole test suite,
#               then the engine and API tests on each other supported Python version (.ci/versions)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=

.PHONY: setup chromium lab lab-headless test lint typecheck unit versions ts-test bench bench-quick clean $(EXAMPLES)

LABEXT_LINK := $(VENV)/share/jupyter/labextensions/codomyrmex-jupyter

$(VENV)/.installed: pyproject.toml labextension/package.json labextension/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the lab extension's packages exactly as locked (the build's npm install then changes nothing)
	cd labextension && npm ci --no-audit --no-fund --loglevel=error
	# a link left by an earlier setup would let the editable install write into the source tree
	if [ -L $(LABEXT_LINK) ]; then rm $(LABEXT_LINK); fi
	$(PY) -m pip install -q -e ".[test]"
	# an editable install does not copy the prebuilt lab extension: link it
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter labextension develop --overwrite . >/dev/null
	touch $@

setup: $(VENV)/.installed

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

EXAMPLES := build/examples

# the example notebooks are run from a copy, as a pip user would (they write next to themselves)
$(EXAMPLES): setup
	$(PY) -c "from codomyrmex_jupyter.examples import copy_to; copy_to('$(EXAMPLES)', overwrite=True)"

lab: $(EXAMPLES)
	$(BIN)/jupyter lab $(ROOT_FLAG) $(EXAMPLES)/01_quickstart.ipynb

lab-headless: $(EXAMPLES)
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
	  $(EXAMPLES)/01_quickstart.ipynb --output-dir build --output quickstart
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
