# Two commands from a fresh clone: `make demo` and `make test`.
# Every target bootstraps .venv from pyproject.toml (pinned versions) first.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv system-packages demo test lint typecheck generate check pytest bench clean

# plue-db pulls the plugin in from ./codegen (a local reference, never PyPI); the
# second step makes that install editable, which pip refuses to do in the same command.
$(STAMP): pyproject.toml codegen/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/pip install --quiet --no-deps -e ./codegen
	touch $(STAMP)

venv: $(STAMP)

# pgbouncer, Patroni, etcd (Debian) for the scale-out tests and bench; installed as root only.
system-packages:
	.ci/system-packages

demo: $(STAMP)
	$(BIN)/plue-db up
	$(BIN)/plue-db demo

generate: $(STAMP)
	$(BIN)/plue-db generate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy src/plue_db codegen/sqlc_gen_psycopg generated/plue_queries tests bench

check: $(STAMP)
	$(BIN)/plue-db check

pytest: $(STAMP) system-packages
	$(BIN)/python -m tests.run_suites

test: lint typecheck check pytest

bench: $(STAMP) system-packages
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pgdata
