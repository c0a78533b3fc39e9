# intentcast: `make demo` runs the broker with demo data; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint check bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) node_modules

# Node tools of `make lint` (Redocly CLI), as package-lock.json pins them.
node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules

demo: $(STAMP)
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py run_demo

# The matcher (and her audience controls) is one implementation for SQLite and PostgreSQL: its tests run on both, the
# whole suite on PostgreSQL.
test: $(STAMP)
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(PY) -m pytest -q -p no:cacheprovider \
	  tests/broker/test_matching.py tests/broker/test_matching_property.py tests/broker/test_outbox.py \
	  tests/broker/test_audience.py tests/broker/test_bulk.py tests/broker/test_fanout_parts.py
	$(PY) -m pytest

# ruff (lint and format), import-linter (the floors of docs/architecture.md), mypy (django-stubs),
# and the OpenAPI schema: generated without warnings, then checked by openapi-spec-validator and
# Redocly CLI (redocly.yaml) (on SQLite: lint needs no PostgreSQL).
lint: $(STAMP) node_modules
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	mkdir -p var
	DATABASE_URL=sqlite:///$(CURDIR)/var/lint.sqlite3 $(PY) manage.py spectacular --file var/openapi.yaml --validate --fail-on-warn
	$(VENV)/bin/openapi-spec-validator var/openapi.yaml
	npx --no-install redocly lint var/openapi.yaml

check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=broker.settings.production DJANGO_SECRET_KEY=check-only-$$(head -c 32 /dev/urandom | base64) \
	  DJANGO_ALLOWED_HOSTS=intentcast.example $(PY) manage.py check --deploy --fail-level WARNING

# Benchmarks (PostgreSQL and Redis; database BENCH_DATABASE_URL, Redis BENCH_BROKER_URL, default
# db 11): they print figures and ratios against references measured in the same run, and assert
# nothing. About 30 minutes in all; quick options in README.md, "Performance".
bench: $(STAMP)
	$(PY) bench/matching.py
	$(PY) bench/fanout.py
	$(PY) bench/fanout.py --vendors 100000 --no-naive --runs 2
	$(PY) bench/load.py
	$(PY) bench/webhooks.py
	$(PY) bench/api.py
