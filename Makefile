# Bulletin: the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2

RUNS ?= 5

.PHONY: run test lint prepare clean chromium flake-hunt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

prepare: $(VENV)/.runtime node_modules/.stamp
	$(BIN)/flask --app app prepare

# Serve the app on http://127.0.0.1:$(PORT) with the sample statements when
# the database is empty. Migrations and asset builds run once, before gunicorn
# forks its workers.
run: prepare
	$(BIN)/flask --app app import --if-empty samples
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:$(PORT) --workers $(WORKERS) app:app

# The whole suite: unit, HTTP and browser tests (a Chromium is found by
# tests/browser/harness.py: CHROMIUM_PATH, /usr/bin/chromium, or Playwright's own).
test: $(VENV)/.dev chromium lint
	$(BIN)/python -m pytest

# Python style and the package layers (pyproject.toml says which); ESLint
# over the page script and the worker (eslint.config.js), at the versions
# package-lock.json pins, installed again whenever the lock file changes.
lint: $(VENV)/.dev node_modules/.stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	npx --no-install eslint service_worker static/js

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# With no Chromium anywhere, try Playwright's own download (it needs the
# internet); where that fails too, the browser tests say what to install.
chromium: $(VENV)/.dev
	@$(BIN)/python -m tests.browser.harness || $(BIN)/python -m playwright install chromium || true

# The browser tests RUNS times with one core kept busy; prints every failure.
flake-hunt: $(VENV)/.dev chromium
	tests/flake_hunt.sh $(RUNS)

clean:
	rm -rf static/gen .pytest_cache
