# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= build/kb.db
HOST ?= 127.0.0.1
PORT ?= 8001

.PHONY: run test build check serve bench bench-quick clean install install-test

# torch goes in first and pinned: otherwise sentence-transformers resolves a
# multi-GB CUDA wheel. The stamp files make re-runs instant.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.torch: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.torch pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
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

clean:
	rm -rf build .pytest_cache
