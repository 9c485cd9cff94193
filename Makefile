# Standby. `make run` starts the app with demo data; `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run prod test e2e unit lint format bench soak browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || { PYTHON_BIN=$$(bin/find-python) && echo "Using $$PYTHON_BIN" && $$PYTHON_BIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --disable-pip-version-check -e . --group dev
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@bin/run-all $(HOST) $(PORT)

# Production: settings from the environment (docs/operations.md).
prod: $(STAMP)
	@bin/serve

# The whole suite: unit, view, webhook and task tests, then the browser tests.
test: $(STAMP) lint unit e2e

unit: $(STAMP)
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: $(STAMP) browser
	@if [ -x "$$(bin/find-chromium)" ]; then \
		$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS); \
	else \
		echo "*** Browser tests SKIPPED: no Chromium found (install Debian's 'chromium' package as root) ***"; \
		if [ -n "$$STANDBY_REQUIRE_BROWSER" ]; then exit 1; fi; \
	fi

# Installs Debian's Chromium for the browser tests when missing and we are root.
browser:
	@if [ -z "$$(bin/find-chromium)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "Could not install chromium"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench

# Fault scenarios against real processes and a PostgreSQL of its own (under 10 minutes);
# fails on any lost or doubled message. SOAK_ONLY=2,5 runs some. docs/operations.md.
soak: $(STAMP)
	$(PY) -m soak

clean:
	rm -rf $(VENV) var
