# Two commands from a fresh clone: `make demo` and `make test`.
# Every target bootstraps .venv from pyproject.toml (pinned versions) first.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv demo test lint typecheck generate check pytest bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

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

pytest: $(STAMP)
	$(BIN)/python -m tests.run_suites

test: lint typecheck check pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pgdata
