"""Option model_type (codegen/README.md, "Model types"): the golden packages
model_type_{attrs,msgspec,pydantic} on a real server, through psycopg sync and async
and asyncpg. Every row class (table model, composite, Row) is the chosen library's, and
holds the values psycopg returns, as they are (tests/codegen/test_golden_types.py round-trips
every types_* fixture in each kind)."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import importlib
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from psycopg.types.range import Range
from sqlc_gen_psycopg.model.kinds import ModelType
from sqlc_gen_psycopg.model.results import DataClass, Field, Value
from sqlc_gen_psycopg.model.types import INT, Scope, in_package

from bench.latency import asyncpg_params
from plue_db.typecheck.runtime_types import Checker
from tests.codegen.codegen_support import copy_fixture, run_sqlc
from tests.codegen.test_golden_types import package
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

KINDS = ("attrs", "msgspec", "pydantic")
# The attribute each kind's classes carry.
MARK = {"attrs": "__attrs_attrs__", "msgspec": "__struct_fields__", "pydantic": "model_fields"}


def pkg(kind: str, module: str) -> Any:
    return importlib.import_module(f"{package(f'model_type_{kind}')}.{module}")


def note_args(kind: str) -> dict[str, Any]:
    enums, models = pkg(kind, "enums"), pkg(kind, "models")
    return {
        "body": "hello",
        "feeling": enums.Mood.SAD,
        "feelings": [enums.Mood.HAPPY, None],
        "doc": {"a": [1, 2.5, None, True], "b": {"c": "d"}},
        "extra": None,
        "tags": ["x", None],
        "amount": decimal.Decimal("12.50"),
        "at": datetime.datetime(2026, 2, 28, 12, 30, tzinfo=datetime.UTC),
        "span": Range(1, 5),
        "addr": ipaddress.ip_interface("192.168.1.10/24"),
        "location": models.Point2(**{"x": 1.5, "y": -2.0}),
    }


@pytest.fixture(params=KINDS)
def kind_url(request: pytest.FixtureRequest, server_url: str) -> Iterator[tuple[str, str]]:
    schema = GOLDEN / f"model_type_{request.param}" / "schema.sql"
    with fresh_database(server_url, schema) as url:
        yield request.param, url


def check_note(kind: str, note: Any, args: dict[str, Any]) -> None:
    """The row is the kind's class holding exactly what was sent."""
    models = pkg(kind, "models")
    assert type(note) is models.Note and hasattr(type(note), MARK[kind])
    assert {k: getattr(note, k) for k in args} == args
    assert type(note.location) is models.Point2
    assert type(note.feelings[0]) is pkg(kind, "enums").Mood


def test_sync_rows_are_the_kinds_classes(kind_url: tuple[str, str]) -> None:
    kind, url = kind_url
    query, models = pkg(kind, "query"), pkg(kind, "models")
    args = note_args(kind)
    with psycopg.connect(url) as conn:
        models.register_composites(conn)
        note = query.add_note(conn, **args)
        check_note(kind, note, args)
        assert query.list_notes(conn) == [note]
        [summary] = query.note_summaries(conn)
        assert type(summary) is query.NoteSummariesRow
        assert (summary.id, summary.feeling, summary.doc, summary.size) == (
            note.id,
            args["feeling"],
            args["doc"],
            5,
        )
        assert summary.location == args["location"]
        [feelings] = query.note_feelings(conn)
        assert (feelings.feeling, feelings.feelings) == (args["feeling"], args["feelings"])
        checker = Checker(vars(pkg(kind, "types")))
        assert checker.returned(query.add_note, note, "add_note") == []
        assert checker.returned(query.note_summaries, [summary], "note_summaries") == []
        assert list(query.iter_list_notes(conn)) == [note]


def test_async_and_asyncpg_rows_equal_the_sync_ones(kind_url: tuple[str, str]) -> None:
    kind, url = kind_url
    models, args = pkg(kind, "models"), note_args(kind)
    aio, on_asyncpg = pkg(kind, "aio.query"), pkg(kind, "asyncpg.query")

    async def run() -> tuple[Any, Any]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            await models.register_composites_async(conn)
            first = await aio.add_note(conn, **args)
        conn2 = await asyncpg.connect(**asyncpg_params(url))
        try:
            await pkg(kind, "_asyncpg").init_connection(conn2)
            second = await on_asyncpg.add_note(conn2, **args)
            listed = await on_asyncpg.list_notes(conn2)
        finally:
            await conn2.close()
        assert listed == [first, second]
        return first, second

    first, second = asyncio.run(run())
    check_note(kind, first, args)
    check_note(kind, second, args)
    assert second.id == first.id + 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_field_of_any_kind_is_seen(kind: str) -> None:
    """The checker the tests above use descends into every kind's fields: a str where
    the enum goes is reported, the good row is not. Control: before it learnt the
    kinds (runtime_types.row_fields) it checked only a dataclass's fields, so the bad
    attrs/msgspec/pydantic Note passed."""
    query, models = pkg(kind, "query"), pkg(kind, "models")
    checker = Checker(vars(pkg(kind, "types")))
    good = models.load_note([1, *note_args(kind).values()][:12])
    good.feeling = pkg(kind, "enums").Mood.HAPPY
    assert checker.returned(query.add_note, good, "ok") == []
    good.feeling = "happy"  # a str, not the StrEnum
    assert checker.returned(query.add_note, good, "bad") != []


def test_pydantic_cannot_be_built_positionally() -> None:
    """Why pydantic's decoders build by keyword (kinds.ModelType.positional): the
    dataclass's ``Cls(*r)`` is refused."""
    models = pkg("pydantic", "models")
    with pytest.raises(TypeError):
        models.Point2(1.5, 2.0)
    assert models.Point2.model_construct(x=1.5, y=2.0).x == 1.5


def test_only_pydantic_rows_are_built_by_keyword() -> None:
    """The decoders' expression, decided by the kind (kinds.ModelType.construct)."""
    fields = (Field("a", INT), Field("b", INT))
    passing = (Value(0, None, True), Value(1, None, True))
    scope = Scope("pkg", "pkg.issues")
    built = {
        kind: DataClass(in_package(".issues", "GetRow"), "A row.", fields, kind).build(
            passing, scope
        )
        for kind in ModelType
    }
    assert built == {
        ModelType.DATACLASS: "GetRow(*r)",
        ModelType.ATTRS: "GetRow(*r)",
        ModelType.MSGSPEC: "GetRow(*r)",
        ModelType.PYDANTIC: "GetRow.model_construct(a=r[0], b=r[1])",
    }


@pytest.mark.parametrize(("kind", "name"), [("pydantic", "pydantic_"), ("dataclass", "pydantic")])
def test_a_query_named_like_the_library_is_escaped(kind: str, name: str, tmp_path: Path) -> None:
    """A function named ``pydantic`` would hide the module the Row classes use; escaped
    only when that library is imported (control: the dataclass package keeps the name)."""
    work = copy_fixture(GOLDEN / "model_type_pydantic", tmp_path)
    with (work / "query.sql").open("a") as queries:
        queries.write("\n-- name: Pydantic :one\nSELECT id, body FROM notes WHERE id = $1;\n")
    config = (work / "sqlc.yaml").read_text().replace("model_type: pydantic", f"model_type: {kind}")
    (work / "sqlc.yaml").write_text(config)
    done = run_sqlc(work)
    assert done.returncode == 0, done.stderr
    text = (work / "expected" / "model_type_pydantic_pkg" / "query.py").read_text()
    assert f"\ndef {name}(conn" in text
