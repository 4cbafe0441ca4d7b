"""README's "Adding a table or a query", followed to the letter in a copy of the project:
a table in schema.sql, its migration, two queries, ``generate``. Nothing else in the
suite needs editing by hand, and the one human step left (the table's seed row) is
named by the failure with the file to edit.

The copy holds what ``plue-db generate`` copies (generate.SKIP); generated/ there is
rewritten, the project's own is never touched."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from plue_db.schema import drift
from plue_db.schema import picture as schema_picture
from plue_db.typecheck import generate
from tests.fixtures.fix_db import fresh_database
from tests.fixtures.fix_world import seed, unseeded
from tests.paths import ROOT
from tests.schema.test_schema_picture import GADGETS, declared

MIGRATION = """\
CREATE TABLE gadgets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES users (id),
    name text NOT NULL
);
"""
QUERIES = """\
-- A gadget by id.
-- name: GetGadget :one
SELECT id, owner_id, name FROM gadgets WHERE id = $1;

-- A user's gadgets, by id.
-- name: ListGadgetsForOwner :many
SELECT id, owner_id, name FROM gadgets WHERE owner_id = $1 ORDER BY id;
"""


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("adding") / "project"
    shutil.copytree(ROOT, root, ignore=generate.SKIP)
    (root / "schema.sql").write_text((root / "schema.sql").read_text() + GADGETS)
    numbers = [int(p.name[:4]) for p in (root / "migrations").glob("[0-9]*.sql")]
    (root / "migrations" / f"{max(numbers) + 1:04d}_gadgets.sql").write_text(MIGRATION)
    (root / "queries" / "gadgets.sql").write_text(QUERIES)
    yield root


def test_generate_writes_the_new_module_and_says_so(copy: Path) -> None:
    code, line = generate.outcome(copy, check=False)
    assert code == 0
    found = re.fullmatch(r"generate: \d+ files written \((\d+) new, \d+ changed\), .*", line)
    written = sorted(str(p.relative_to(copy)) for p in copy.rglob("gadgets.py"))
    assert "generated/plue_queries/aio/gadgets.py" in written
    assert found and int(found[1]) == len(written), (line, written)
    module = (copy / "generated" / "plue_queries" / "gadgets.py").read_text()
    assert "def get_gadget(" in module and "def list_gadgets_for_owner(" in module
    assert generate.outcome(copy, check=True)[0] == 0


def test_the_migration_matches_the_schema_and_the_picture_counts_it(
    copy: Path, server_url: str
) -> None:
    assert drift.check_migrations(server_url, copy / "schema.sql", copy / "migrations") == []
    tables, keys = declared(ROOT / "schema.sql")
    assert declared(copy / "schema.sql") == (tables + 1, keys + 1)
    picture = schema_picture.read_schema(copy / "schema.sql")
    assert "gadgets" in [t for names in picture.domains.values() for t in names]


def test_the_missing_seed_row_is_named_with_the_file_to_edit(copy: Path, server_url: str) -> None:
    with (
        fresh_database(server_url, copy / "schema.sql") as url,
        psycopg.connect(url) as conn,
    ):
        conn.execute("SET TIME ZONE 'UTC'")
        seed(conn)
        assert unseeded(conn) == [
            "table gadgets has no seed row: add one to seed() in tests/fixtures/fix_world.py"
        ]
