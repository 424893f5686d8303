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

# The browser tests need Debian's Chromium (/usr/bin/chromium). When it is missing, `make test`
# installs it as .ci/run does if it runs as root with apt; otherwise it prints the command to run
# and runs everything else with the browser tests skipped (GRABADORA_SKIP_BROWSER=1).
test: install frontend/dist
	@if [ ! -x /usr/bin/chromium ] && [ -z "$$GRABADORA_SKIP_BROWSER" ] && [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || true; \
	fi
	@if [ ! -x /usr/bin/chromium ] && [ -z "$$GRABADORA_SKIP_BROWSER" ]; then \
	  echo "Chromium is missing, so the browser tests are skipped; to run them: sudo apt-get install -y chromium && make test"; \
	  GRABADORA_SKIP_BROWSER=1 $(BIN)/pytest; \
	else \
	  $(BIN)/pytest; \
	fi

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache frontend/dist frontend/node_modules
