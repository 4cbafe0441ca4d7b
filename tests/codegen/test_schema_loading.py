"""Schema files load into a scratch database as sqlc reads them into its catalog: what
defines the schema, one statement at a time, outside a transaction.

Real projects list query files among their schema files (River's ``pg_misc.sql``), keep
lookup rows and grants in them, and build indexes CONCURRENTLY (Hatchet). Each control
runs the same files the old way, as one multi-statement text, which fails.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlc_gen_psycopg.analysis.scratch import SchemaError, load_schema, scratch_database
from sqlc_gen_psycopg.schema_info import as_sqlc_reads

SCHEMA = """\
CREATE TABLE plan (code text PRIMARY KEY, seats int NOT NULL);
INSERT INTO plan (code, seats) VALUES ('free', 1);
CREATE TABLE account (id bigserial PRIMARY KEY, plan text REFERENCES plan (code));
CREATE INDEX CONCURRENTLY account_plan ON account (plan);
ALTER TABLE account OWNER TO app_owner_that_does_not_exist;
GRANT SELECT ON account TO app_reader_that_does_not_exist;
DO $$ BEGIN CREATE TYPE tier AS ENUM ('a', 'b'); END $$;
"""

# A query file among the schema files: its queries name a column of a later migration.
QUERIES = """\
-- name: AccountByKey :one
SELECT id FROM account WHERE key = $1;

-- name: UpdateAccount :exec
UPDATE account SET key = $1 WHERE id = $2;
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "001_schema.sql").write_text(SCHEMA)
    (tmp_path / "002_misc.sql").write_text(QUERIES)
    return tmp_path / "001_schema.sql", tmp_path / "002_misc.sql"


def test_schema_and_query_files_load_what_defines_the_schema(
    server_url: str, files: tuple[Path, Path]
) -> None:
    with (
        scratch_database(server_url, prefix="plue_test", schema=files) as url,
        psycopg.connect(url) as conn,
    ):
        tables = conn.execute(
            "SELECT array_agg(relname::text ORDER BY relname) FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')"
        ).fetchone()
        assert tables == (["account", "account_pkey", "account_plan", "plan", "plan_pkey"],)
        assert conn.execute("SELECT count(*) FROM plan").fetchone() == (0,)  # data: sqlc's too
        assert conn.execute("SELECT enum_range(NULL::tier)::text").fetchone() == ("{a,b}",)


@pytest.mark.parametrize("which", [0, 1])
def test_control_the_files_as_one_text_do_not_load(
    server_url: str, files: tuple[Path, Path], which: int
) -> None:
    with (
        scratch_database(server_url, prefix="plue_test", schema=files[:which]) as url,
        psycopg.connect(url, autocommit=True) as conn,
        pytest.raises(psycopg.Error) as error,
    ):
        conn.execute(as_sqlc_reads(files[which].read_text()).encode())
    expected = ("CONCURRENTLY cannot run inside a transaction", 'column "key" does not exist')
    assert expected[which] in str(error.value)


def test_a_statement_that_fails_is_named_by_file_and_line(server_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE a (id int);\n\n-- b\nCREATE TABLE b (a_id int REFERENCES x);\n")
    with (
        scratch_database(server_url, prefix="plue_test") as url,
        pytest.raises(SchemaError) as error,
    ):
        load_schema(url, schema)
    assert str(error.value) == (
        f'{schema}:4: does not load into an empty database: relation "x" does not exist'
        " (in `CREATE TABLE b (a_id int REFERENCES x)`)"
    )
