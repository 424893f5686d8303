# Two commands: `make dev` sets everything up and runs the local stack; `make test` runs all tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install dev test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[worker,local,dev]'
	touch $(STAMP)

install: $(STAMP)

dev: install
	$(BIN)/grabadora dev

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/pipeline.py

clean:
	rm -rf $(VENV) .pytest_cache
