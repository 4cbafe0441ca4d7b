"""``plue-db docs``: docs/schema.md is the current picture of schema.sql, and the picture
holds exactly the tables and foreign keys PostgreSQL creates from the schema."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pglast
import psycopg
import pytest
from pglast.enums import ConstrType

from plue_db import cli
from plue_db.mcp import pg_ast
from plue_db.schema import picture as schema_picture
from plue_db.schema.picture import ForeignKey, SchemaPictureError
from plue_db.servers.scratch import load_schema
from tests.fixtures.fix_db import Conn
from tests.paths import SCHEMA

# Every way schema.sql spells a foreign key: a column's REFERENCES, a composite table
# constraint, ALTER TABLE ... ADD CONSTRAINT, a self-reference; two keys to one table.
SMALL_SCHEMA = """\
-- ---------------------------------------------------------------------------
-- People
-- ---------------------------------------------------------------------------

CREATE TABLE people (id bigint PRIMARY KEY, mentor_id bigint REFERENCES people (id));

-- ---------------------------------------------------------------------------
-- Work
-- ---------------------------------------------------------------------------

CREATE TABLE projects (
    id bigint PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES people (id),
    UNIQUE (id, owner_id)
);
CREATE TABLE tasks (
    id bigint PRIMARY KEY,
    project_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    reviewer_id bigint REFERENCES people (id),
    FOREIGN KEY (project_id, owner_id) REFERENCES projects (id, owner_id)
);
ALTER TABLE people ADD COLUMN current_task_id bigint;
ALTER TABLE people ADD CONSTRAINT people_task_fkey FOREIGN KEY (current_task_id)
    REFERENCES tasks (id);
"""

CATALOG_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,
       array_agg(a.attname::text ORDER BY k.n)
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
GROUP BY c.oid
"""
TABLES = """
SELECT relname FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
"""


def catalog_picture(conn: Conn) -> tuple[set[str], Counter[ForeignKey]]:
    """The tables and foreign keys PostgreSQL holds, in the picture's terms."""
    keys = Counter(
        ForeignKey(table, tuple(columns), references)
        for table, references, columns in conn.execute(CATALOG_FOREIGN_KEYS)
    )
    return {name for (name,) in conn.execute(TABLES)}, keys


def declared(path: Path) -> tuple[int, int]:
    """How many tables and foreign keys ``path`` declares, counted from its parse tree
    (every CREATE TABLE; every FOREIGN KEY, whether a column's REFERENCES, a table
    constraint or an ALTER TABLE): the counts follow schema.sql as it grows."""
    tables = keys = 0
    for raw in pglast.parse_sql(path.read_text()):
        for node in pg_ast.nodes(raw.stmt):
            if isinstance(node, pglast.ast.CreateStmt):
                tables += 1
            elif isinstance(node, pglast.ast.Constraint):
                keys += node.contype == ConstrType.CONSTR_FOREIGN
    return tables, keys


def drawn(schema: schema_picture.Schema) -> tuple[set[str], Counter[ForeignKey]]:
    tables = [name for names in schema.domains.values() for name in names]
    assert len(tables) == len(set(tables))  # each table in one domain
    return set(tables), Counter(schema.foreign_keys)


def test_docs_schema_md_is_current() -> None:
    fresh = schema_picture.render(schema_picture.read_schema())
    assert schema_picture.DOC_PATH.read_text() == fresh, "docs/schema.md is stale: run plue-db docs"


def test_picture_holds_every_table_and_foreign_key_of_schema_sql(
    conn: Conn,
) -> None:
    schema = schema_picture.read_schema()
    tables, keys = catalog_picture(conn)
    assert (len(tables), sum(keys.values())) == declared(SCHEMA)
    assert len(tables) > 40  # not vacuous: the whole schema was loaded
    assert drawn(schema) == (tables, keys)
    assert list(schema.domains)[:3] == ["Users", "Auth", "Repositories"]
    assert schema.domains["Users"] == ["users", "email_addresses"]


def test_every_spelling_of_a_foreign_key_is_drawn(empty_database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.sql"
    path.write_text(SMALL_SCHEMA)
    load_schema(empty_database_url, path)
    schema = schema_picture.read_schema(path)
    with psycopg.connect(empty_database_url) as conn:
        assert drawn(schema) == catalog_picture(conn)
    assert schema.domains == {"People": ["people"], "Work": ["projects", "tasks"]}
    assert len(schema.foreign_keys) == 5

    text = schema_picture.render(schema)
    assert "3 tables in 2 domains (schema.sql's section comments), 5 foreign keys." in text
    overview = text.split("## Domains")[1].split("## People")[0]
    assert overview.splitlines()[4:9] == [
        '  d1["People: 1 table"]',
        '  d2["Work: 2 tables"]',
        "  d1 --> d2",
        "  d2 --> d1",
        "```",
    ]
    work = text.split("## Work")[1]
    assert work.splitlines()[4:12] == [
        '  subgraph domain["Work"]',
        "    projects",
        "    tasks",
        "  end",
        '  projects -->|"owner_id"| people',
        '  tasks -->|"reviewer_id"| people',
        '  tasks -->|"project_id, owner_id"| projects',
        "```",
    ]
    assert '  people -->|"mentor_id"| people' in text.split("## People")[1]


def test_plue_db_docs_writes_the_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "schema.md"
    assert cli.main(["docs", "--output", str(output)]) == 0
    assert output.read_text() == schema_picture.DOC_PATH.read_text()
    tables, keys = declared(SCHEMA)
    domains = len(schema_picture.read_schema().domains)
    assert capsys.readouterr().out == (
        f"wrote {output}: {tables} tables in {domains} domains, {keys} foreign keys\n"
    )


GADGETS = """
CREATE TABLE gadgets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES users (id),
    name text NOT NULL
);
"""


def test_the_counts_follow_a_schema_that_grew(empty_database_url: str, tmp_path: Path) -> None:
    """README's "Adding a table": a new table with a foreign key, appended under the last
    domain of a copy of schema.sql, is counted, loaded and drawn with no test to edit."""
    path = tmp_path / "schema.sql"
    path.write_text(SCHEMA.read_text() + GADGETS)
    tables, keys = declared(SCHEMA)
    assert declared(path) == (tables + 1, keys + 1)
    load_schema(empty_database_url, path)
    with psycopg.connect(empty_database_url) as conn:
        catalog = catalog_picture(conn)
    assert (len(catalog[0]), sum(catalog[1].values())) == declared(path)
    assert drawn(schema_picture.read_schema(path)) == catalog
    # Control: the counts this test used to hard-code no longer hold.
    assert declared(path) != (47, 94)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "CREATE TABLE loose (id int);\n",
            "schema.sql:1: table loose is in no domain; put it under a section comment",
        ),
        (
            SMALL_SCHEMA + "\nCREATE TABEL oops (id int);\n",
            'schema.sql:27: syntax error at or near "TABEL"',
        ),
    ],
)
def test_a_schema_it_cannot_draw_is_named_by_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "schema.sql"
    path.write_text(text)
    with pytest.raises(SchemaPictureError) as caught:
        schema_picture.read_schema(path)
    assert str(caught.value).startswith(f"{path.parent}/{message}")
