"""Migration 0004 on a database that already holds data: the array columns' no-NULL-
element CHECKs are added NOT VALID, committed one by one, then validated.

Negative control: before 0004 the schema stores ``'{NULL,x}'`` in repositories.topics
(issue 17 item 12). A row like that stops 0004 at its VALIDATE, naming the constraint,
with the CHECKs already guarding new writes; once the row is fixed, a rerun finishes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import psycopg
import pytest

from plue_db import config
from plue_db.schema import migrate

NO_NULLS = """
SELECT conrelid::regclass::text || '.' || conname, convalidated FROM pg_constraint
WHERE conname LIKE '%\\_no\\_nulls' ORDER BY 1
"""


def test_0004_validates_existing_rows_and_names_one_that_breaks_it(
    empty_database_url: str, tmp_path: Path
) -> None:
    for path in sorted(config.MIGRATIONS_DIR.glob("000[123]_*.sql")):
        shutil.copy(path, tmp_path)
    migrate.migrate(empty_database_url, tmp_path)
    with psycopg.connect(empty_database_url) as conn:
        conn.execute("INSERT INTO users (username) VALUES ('old')")
        conn.execute(
            "INSERT INTO repositories (owner_id, name, topics)"
            " SELECT id, 'r', '{NULL,x}' FROM users"
        )
        assert conn.execute("SELECT topics FROM repositories").fetchone() == ([None, "x"],)

    shutil.copy(next(config.MIGRATIONS_DIR.glob("0004_*.sql")), tmp_path)
    with pytest.raises(migrate.MigrationError, match="repositories_topics_no_nulls") as failed:
        migrate.migrate(empty_database_url, tmp_path)
    assert re.search(r"0004_\w+\.sql:\d+", str(failed.value))
    with psycopg.connect(empty_database_url) as conn:
        checks = conn.execute(NO_NULLS).fetchall()
        assert len(checks) == 9 and ("repositories.repositories_topics_no_nulls", False) in checks
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE repositories SET topics = '{NULL}'")  # already enforced
        conn.rollback()
        conn.execute("UPDATE repositories SET topics = array_remove(topics, NULL)")

    assert [m.name[:4] for m in migrate.migrate(empty_database_url, tmp_path)] == ["0004"]
    with psycopg.connect(empty_database_url) as conn:
        checks = conn.execute(NO_NULLS).fetchall()
        assert len(checks) == 9 and all(valid for _, valid in checks)
        assert conn.execute("SELECT topics FROM repositories").fetchone() == (["x"],)
