# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000
SCALE ?= small
# PostgreSQL for the `postgres`-marked tests (CI: trust auth on 127.0.0.1:5432).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/cimaise

.PHONY: demo serve test test-sqlite test-postgres check lint types bench messages clean install

$(STAMP): pyproject.toml
	@test -x $(PY) || { PYBIN=$$(scripts/find-python) && "$$PYBIN" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cimaise demo --scale $(SCALE) --addr $(ADDR)

serve: $(STAMP)
	$(BIN)/cimaise migrate --no-input
	$(BIN)/cimaise serve --addr $(ADDR)

# The whole suite on SQLite, then the PostgreSQL suite. Exit code 5 (nothing collected) is not
# a failure here; skipped postgres/browser tests are, when CI=true (see conftest.py).
test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP)
	$(BIN)/pytest -m "not postgres" $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ] || exit $$rc

test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_POSTGRES_URL)} DATABASE_POOL_MAX=$${DATABASE_POOL_MAX:-40} $(BIN)/pytest -m postgres $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ] || exit $$rc

lint: $(STAMP)
	$(BIN)/ruff format --check src bench tests conftest.py
	$(BIN)/ruff check src bench tests conftest.py

types: $(STAMP)
	$(BIN)/mypy src

check: lint types test

bench: $(STAMP)
	@for script in bench/[!_]*.py; do $(PY) $$script || exit 1; done

messages: $(STAMP)
	cd src/cimaise && ../../$(BIN)/cimaise makemessages -l fr -l zh_Hans --no-obsolete && ../../$(BIN)/cimaise compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
