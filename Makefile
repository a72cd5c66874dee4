# The two set-up commands of the README, plus lint and the Celery processes.
#
# The virtualenv is made once; pip runs again only when a requirements file changes, because
# each install leaves a stamp named after a hash of the files it installed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RUN_HASH := $(shell cat requirements.txt | sha256sum | cut -c1-16)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
RUN_STAMP := $(VENV)/.installed-run-$(RUN_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(DEV_HASH)
PIP := $(BIN)/pip install --disable-pip-version-check --quiet
# The local run: SQLite and the filesystem broker unless DATABASE_URL / REDIS_URL say otherwise.
RUN_ENV := DEBUG=$${DEBUG:-1}
# Where `make run` serves the pages.
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per CPU, each with a test database of its own, each taking
# whole test files (so a module-scoped fixture, like the demo's, is built once), but the tests of
# a few long files one by one; in the order tests/conftest.py gives, longest work first.
# PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= auto

.PHONY: run test lint worker beat

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): | $(BIN)/python
	$(PIP) -r requirements.txt
	rm -f $(VENV)/.installed-run-*
	touch $@

$(DEV_STAMP): | $(BIN)/python
	$(PIP) -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-* $(VENV)/.installed-run-*
	touch $@ $(RUN_STAMP)

# Web, worker and beat together (Procfile, run by honcho), so the demo's scheduled jobs run;
# Ctrl-C stops all three. The port is checked first, before the demo data is made.
run: $(RUN_STAMP)
	@$(BIN)/python -c 'import socket; socket.create_server(("127.0.0.1", int("$(PORT)")))' \
		2>/dev/null || { echo "Port $(PORT) is taken: run \`PORT=$$(($(PORT) + 1)) make run\`" >&2; exit 1; }
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) PORT=$(PORT) $(BIN)/python manage.py demo
	$(RUN_ENV) PYTHONUNBUFFERED=1 $(BIN)/honcho start --procfile Procfile --port $(PORT)

test: $(DEV_STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

worker: $(RUN_STAMP)
	$(BIN)/celery -A inmail_site worker -l info

beat: $(RUN_STAMP)
	$(BIN)/celery -A inmail_site beat -l info
