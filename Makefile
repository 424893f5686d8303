# Two commands: `make dev` sets everything up and runs the local stack; `make test` runs all tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install dev test bench clean frontend

# The web app: rebuilt when dist is missing or older than its sources or lockfile.
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/package.json \
                frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig.json

frontend/dist: $(FRONTEND_SRC)
	cd frontend && npm ci --no-audit --no-fund && npm run build
	touch frontend/dist

frontend: frontend/dist

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[worker,local,dev,infra,diarization]'
	# resemblyzer only for its encoder weights: none of its own dependencies are used.
	$(BIN)/pip install --quiet --no-deps resemblyzer==0.1.4
	touch $(STAMP)

install: $(STAMP)

dev: install frontend/dist
	$(BIN)/grabadora dev

test: install frontend/dist
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache frontend/dist frontend/node_modules
