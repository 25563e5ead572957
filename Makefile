# couponmint: `make run` starts the local stack, `make test` runs every test and check.
# Both create .venv and install what they need on first use.

SHELL := /bin/bash
# Lambda runs python3.13; use it here too when the machine has it (pyenv's copy included).
PYTHON ?= $(shell for p in python3.13 $$(ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null) python3.12 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0

.PHONY: install run test unit integration e2e lint format build bench bench-quick clean openapi screenshots

install: $(STAMP)

$(STAMP): requirements-dev.txt layers/couponmint/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $@

run: install
	$(BIN)/couponmint local run

test: install lint
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

e2e: install
	$(BIN)/pytest tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/couponmint/couponmint tools/couponmint_dev
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# sam build needs the function runtime's Python on PATH.
build: install
	PATH="$$(dirname $$(command -v $(PYTHON))):$$PATH" $(BIN)/sam build

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache

# Regenerate the committed OpenAPI document (a test fails when it drifts from the routes and models).
openapi: install
	$(BIN)/couponmint openapi > docs/openapi.json

# The console's main pages in headless Chromium (Debian's package, installed when missing) for the README.
screenshots: install
	$(BIN)/pytest tests/e2e/console_screenshots.py -q
	@ls -1 docs/img/console-*.png

# Benchmarks (docs/benchmarks.md): bench-quick writes bench/results/quick.json in under 3 minutes; bench also
# rewrites docs/benchmarks.md and its plots. Their extra packages (nanoid, matplotlib, ...) go into the same venv.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench --quick

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench
