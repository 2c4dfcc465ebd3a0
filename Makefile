# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= build/kb.db
HOST ?= 127.0.0.1
PORT ?= 8001

.PHONY: run test build check serve bench bench-quick clean install install-test lock

# Every package comes from requirements.lock, pinned with hashes (pip
# --require-hashes refuses anything else); then the project itself, without
# dependencies. The lock pins torch to its CPU wheel: an unpinned resolve pulls
# a multi-GB CUDA build. `make lock` regenerates it from pyproject.toml.
# The stamp files make re-runs instant.
LOCK := requirements.lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.locked: $(BIN)/python $(LOCK)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	touch $@

$(VENV)/.installed: $(VENV)/.locked pyproject.toml
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

check: install
	$(BIN)/kb check

build: install
	$(BIN)/kb build --db $(DB)

run: build
	$(BIN)/kb stats --db $(DB)
	$(BIN)/kb serve --db $(DB) --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The full run takes ~30 minutes and caches ~6 GB under benchmarks/out/.
bench: install-test
	$(BIN)/python benchmarks/run_all.py

bench-quick: install-test
	$(BIN)/python benchmarks/run_all.py --quick

# Regenerate the lock (build and test extras included) after changing pyproject.toml.
lock:
	$(PYTHON) -m venv /tmp/kb-lock-env && /tmp/kb-lock-env/bin/pip install --quiet pip-tools
	/tmp/kb-lock-env/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--extra build --extra test -o $(LOCK) pyproject.toml

clean:
	rm -rf build .pytest_cache
