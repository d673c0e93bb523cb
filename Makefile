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

# dynalite, the second local DynamoDB backend, is optional: without npm the suite skips its tests.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: dynalite (optional second local backend) not installed"; \
	fi

run: setup
	PORT=$(PORT) $(PYTHON) manage.py runlocal

test: setup
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Rewrites docs/benchmarks.md and its chart (a few minutes: the table grows to 100,000 items).
bench: setup
	$(PYTHON) manage.py benchmark $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules .local .pytest_cache .ruff_cache
