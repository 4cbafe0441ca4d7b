"""A view's column is non-optional only when the view's definition proves it
(tests/golden/view_nullability): on a server, each view column the fixture makes
``T | None`` returns NULL for a team without members, on psycopg sync and async and on
asyncpg; the proven ones (the preserved side of a LEFT JOIN, count(*)) never do. The
control is the annotation sqlc's catalog gave before: NOT NULL, which each NULL breaks."""

from __future__ import annotations

import asyncio
import dataclasses
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import asyncpg
import psycopg
import pytest
from sqlc_gen_psycopg.inference import Analyser
from sqlc_gen_psycopg.schema_info import read_schema
from sqlc_gen_psycopg.view_nullability import lined_up

from bench.latency import asyncpg_params
from tests.codegen.test_golden_real_apps import golden
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

FIXTURE = "view_nullability"
TEAM = uuid.UUID("00000000-0000-0000-0000-00000000000a")
# What sqlc's catalog says of the views' columns, and so what models.py said before:
# every column NOT NULL but members.* in team_members.
SQLC_NOT_NULL = {
    "TeamBadge": {"team_ref", "handle", "label"},
    "TeamFirst": {"id", "latest", "first_handle"},
    "TeamStat": {"top_name", "team_count"},
    "TeamLabel": {"team", "badge"},
    "TeamMember": {"team_ref"},
}


@pytest.fixture
def teams_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, GOLDEN / FIXTURE / "schema.sql") as url:
        yield url


def rows(url: str) -> dict[str, list[Any]]:
    """Every view's rows through the sync functions, with one team and no members."""
    query = golden(FIXTURE, "query")
    with psycopg.connect(url) as conn:
        stats = query.get_team_stats(conn)
        conn.execute("INSERT INTO teams VALUES (%s, 'red')", (TEAM,))
        return {
            "TeamMember": [r.team_members for r in query.list_team_members(conn)],
            "TeamBadge": query.list_team_badges(conn),
            "TeamFirst": query.list_team_firsts(conn),
            "TeamStat": [stats],
            "TeamLabel": query.list_team_labels(conn),
        }


def fits(value: object, annotation: Any) -> bool:
    if isinstance(annotation, types.UnionType):
        return any(fits(value, a) for a in annotation.__args__)
    return value is None if annotation is type(None) else isinstance(value, annotation)


def non_optional(annotation: Any) -> Any:
    """``T`` of ``T | None``: what the field was annotated when sqlc's NOT NULL held."""
    (kept,) = [a for a in annotation.__args__ if a is not type(None)]
    return kept


def test_every_view_column_fits_its_annotation_with_nulls(teams_url: str) -> None:
    found = rows(teams_url)
    models = golden(FIXTURE, "models")
    nulls: set[tuple[str, str]] = set()
    for name, values in found.items():
        hints = get_type_hints(getattr(models, name))
        assert values, name
        for row in values:
            for field in dataclasses.fields(row):
                value = getattr(row, field.name)
                assert fits(value, hints[field.name]), (name, field.name, value)
                if value is None:
                    nulls.add((name, field.name))
                    # control: the annotation sqlc's NOT NULL gave does not hold it
                    if field.name in SQLC_NOT_NULL[name]:
                        assert not fits(value, non_optional(hints[field.name]))
    assert found["TeamMember"][0].team_ref == TEAM  # proven: preserved side
    assert found["TeamStat"][0].team_count == 0  # proven: count(*)
    assert nulls == {
        ("TeamMember", "id"),
        ("TeamMember", "team_id"),
        ("TeamMember", "handle"),
        ("TeamBadge", "handle"),
        ("TeamBadge", "label"),
        ("TeamFirst", "latest"),
        ("TeamFirst", "first_handle"),
        ("TeamStat", "top_name"),
        ("TeamLabel", "badge"),
    }
    # control: under sqlc's NOT NULL, each of those but members.* was non-optional
    lied = {(name, field) for name, field in nulls if field in SQLC_NOT_NULL[name]}
    assert lied == nulls - {("TeamMember", f) for f in ("id", "team_id", "handle")}


def test_the_nulls_come_back_on_every_target(teams_url: str) -> None:
    models = golden(FIXTURE, "models")
    aio_query = golden(FIXTURE, "aio.query")
    apg_query = golden(FIXTURE, "asyncpg.query")
    apg = golden(FIXTURE, "_asyncpg")
    expected = [models.TeamBadge(TEAM, None, None)]
    with psycopg.connect(teams_url) as conn:
        conn.execute("INSERT INTO teams VALUES (%s, 'red')", (TEAM,))

    async def on_psycopg_async() -> Any:
        async with await psycopg.AsyncConnection.connect(teams_url) as conn:
            return await aio_query.list_team_badges(conn), await aio_query.list_team_firsts(conn)

    async def on_asyncpg() -> Any:
        conn = await asyncpg.connect(**asyncpg_params(teams_url))
        try:
            await apg.init_connection(conn)
            return await apg_query.list_team_badges(conn), await apg_query.list_team_firsts(conn)
        finally:
            await conn.close()

    firsts = [models.TeamFirst(TEAM, None, None)]
    for badges, found in (asyncio.run(on_psycopg_async()), asyncio.run(on_asyncpg())):
        assert (badges, found) == (expected, firsts)
        for row in (*badges, *found):
            hints = get_type_hints(type(row))
            for field in dataclasses.fields(row):
                assert fits(getattr(row, field.name), hints[field.name]), field.name


def test_view_definitions_follow_the_schema_as_postgresql_keeps_it(
    server_url: str, tmp_path: Path
) -> None:
    """CREATE [OR REPLACE], DROP and RENAME TO leave the plugin with the views the server
    has, each with the columns the server gives it."""
    schema = tmp_path / "schema.sql"
    schema.write_text(
        "CREATE TABLE t (id int PRIMARY KEY, note text);\n"
        "CREATE VIEW a AS SELECT id FROM t;\n"
        "CREATE VIEW gone AS SELECT id FROM t;\n"
        "DROP VIEW gone;\n"
        "CREATE VIEW old_name AS SELECT t.* FROM t;\n"
        "ALTER VIEW old_name RENAME TO new_name;\n"
        "CREATE OR REPLACE VIEW a AS SELECT id, note FROM t;\n"
        "CREATE MATERIALIZED VIEW m (ident) AS SELECT id FROM t;\n"
    )
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        on_server: dict[str, list[str]] = dict(
            conn.execute(
                "SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum)"
                " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
                " WHERE c.relkind IN ('v', 'm') AND c.relnamespace = 'public'::regnamespace"
                " GROUP BY c.relname"
            ).fetchall()
        )
    assert on_server == {"a": ["id", "note"], "new_name": ["id", "note"], "m": ["ident"]}
    info = read_schema([schema])
    analyser = Analyser({"t": {"id": (None, True), "note": (None, False)}}, info)
    found = {
        key: lined_up(analyser.view_columns(view.query), view.names, on_server[key])
        for key, view in info.views.items()
    }
    assert found == {"a": [True, False], "new_name": [True, False], "m": [True]}
    # control: names that don't line up (the old definition of a, or a renamed column)
    # prove nothing
    assert lined_up([("id", True)], (), ["id", "note"]) == [False, False]
    assert lined_up([("id", True)], (), ["ident"]) == [False]
