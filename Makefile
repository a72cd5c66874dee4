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
PYTEST_ARGS ?=

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

run: $(RUN_STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) $(BIN)/python manage.py demo
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

worker: $(RUN_STAMP)
	$(BIN)/celery -A inmail_site worker -l info

beat: $(RUN_STAMP)
	$(BIN)/celery -A inmail_site beat -l info
