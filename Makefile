# Two commands on a fresh machine: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install serve test lint typecheck pytest bench clean

# pip keeps built wheels in its cache (~/.cache/pip/wheels): llama-cpp-python compiles
# once (about 10 minutes on 2 cores); later installs reuse the wheel.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel setuptools
	# CPU torch from the local wheel first, so nothing pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/lmwebui serve

lint: install
	$(BIN)/ruff check platform deployments tests loadtests
	$(BIN)/ruff format --check platform deployments tests loadtests

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: install
	$(BIN)/ruff check platform deployments tests loadtests
	$(BIN)/mypy
	$(BIN)/pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
