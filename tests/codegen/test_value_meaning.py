"""One meaning per value across the three targets (issue 17, items 7 and 12).

The same Python value, passed to a generated function through psycopg (sync), psycopg
(async) or asyncpg, is stored as the same value, or is refused by each with one
``ParameterValueError`` naming the function and parameter, before anything is sent.
Every test runs with Python's local time zone set to Asia/Tokyo (``TZ`` and
``time.tzset``) and the server session's TimeZone set to America/New_York, so a naive
datetime has three candidate meanings and a wrong one shows.

Fixtures: tests/golden/value_meaning (``meaning_pkg``, every value kind in and out) and
Plue's own create_auth_session and create_repository. Negative controls: the raw SQL of
the same functions, sent without the generated checks, stores a naive datetime as two
instants and an aware one as two wall-clock times or an error (item 7's defect); a None
element reaches the server, where only the schema's CHECK stops it; the look-alike
CHECK ``NOT (NULL = ANY(col))`` lets NULL elements in, so the generator must not take
it as proof (item 12).
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import inspect
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import psycopg
import pytest
from meaning_pkg import models
from meaning_pkg import query as meaning
from meaning_pkg.enums import Mood
from meaning_pkg.types import ParameterValueError
from plue_queries import repositories
from plue_queries.types import ParameterValueError as PlueValueError

from tests.asyncpg_flows import connect
from tests.factories import sha256_hex, unique_name
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN

TARGETS = ("psycopg", "psycopg-async", "asyncpg")
PROCESS_ZONE = "Asia/Tokyo"  # Python's local time: asyncpg's reading of a naive datetime
SESSION_ZONE = "America/New_York"  # the session's TimeZone: psycopg's reading of one

INDIA = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
AT = datetime.datetime(2030, 3, 1, 7, 38, 58, tzinfo=INDIA)
WALL = datetime.datetime(2030, 3, 1, 7, 38, 58)
DAY = datetime.date(2030, 3, 1)
DOC = {"a": [1, 2.5, None, "é"], "b": True, "c": {"d": "x"}}
NONE_TAG: Any = ["a", None]  # what the annotation forbids and an untyped caller may pass

Flow = Callable[["Driver"], Awaitable[None]]


@pytest.fixture
def elsewhere() -> Iterator[None]:
    """Python's local time zone is Asia/Tokyo for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = PROCESS_ZONE
    time.tzset()
    assert time.localtime().tm_gmtoff == 9 * 3600
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(scope="module")
def meaning_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, Path(GOLDEN / "value_meaning" / "schema.sql")) as url:
        yield url


class Driver:
    """One target's connection, in a transaction rolled back afterwards: the generated
    functions of ``package`` through it, and raw SQL ($n placeholders) beside them."""

    def __init__(self, target: str, conn: Any, package: str) -> None:
        self.target = target
        self.conn = conn
        self.package = package

    async def call(self, module: str, function: str, **kwargs: Any) -> Any:
        place = {"psycopg": "", "psycopg-async": ".aio", "asyncpg": ".asyncpg"}[self.target]
        fn = getattr(importlib.import_module(f"{self.package}{place}.{module}"), function)
        out = fn(self.conn, **kwargs)
        return await out if inspect.isawaitable(out) else out

    async def rows(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        """``statement`` sent as it is, without any generated check."""
        if self.target == "asyncpg":
            return [tuple(r) for r in await self.conn.fetch(statement, *args)]
        if self.target == "psycopg":
            cur = psycopg.RawCursor(self.conn)
            cur.execute(statement, args)
            return cur.fetchall() if cur.description else []
        acur = psycopg.AsyncRawCursor(self.conn)
        await acur.execute(statement, args)
        return await acur.fetchall() if acur.description else []


def run(target: str, url: str, package: str, flow: Flow) -> None:
    """``flow`` on a new connection of ``target`` whose session TimeZone is
    SESSION_ZONE, in a transaction rolled back afterwards."""
    setting = f"SET TimeZone = '{SESSION_ZONE}'"

    async def go() -> None:
        if target == "asyncpg":
            conn = await connect(url)
            await conn.execute(setting)
            tx = conn.transaction()
            await tx.start()
            try:
                await flow(Driver(target, conn, package))
            finally:
                await tx.rollback()
                await conn.close()
        elif target == "psycopg-async":
            async with await psycopg.AsyncConnection.connect(url) as aconn:
                await aconn.execute(setting)
                try:
                    await flow(Driver(target, aconn, package))
                finally:
                    await aconn.rollback()
        else:
            with psycopg.connect(url) as conn:
                conn.execute(setting)
                try:
                    await flow(Driver(target, conn, package))
                finally:
                    conn.rollback()

    asyncio.run(go())


def stamp(**changes: Any) -> dict[str, Any]:
    """insert_stamp's arguments: a value of every kind, with ``changes``."""
    return {
        "at": AT,
        "wall": WALL,
        "day": DAY,
        "ats": [AT, None],
        "tags": ["a", "b"],
        "loose": [None, "x"],
        "moods": [Mood.OK, Mood.SAD],
        "mood": Mood.SAD,
        "doc": DOC,
        **changes,
    }


STORED = (
    "SELECT extract(epoch FROM at)::float8, at::text, wall::text, day::text, ats::text,"
    " tags::text, loose::text, moods::text, mood::text, doc::text FROM stamps WHERE id = $1"
)


@pytest.mark.parametrize("target", TARGETS)
def test_every_value_kind_is_stored_and_read_back_the_same_through_each_target(
    target: str, meaning_url: str, elsewhere: None
) -> None:
    async def flow(d: Driver) -> None:
        row = await d.call("query", "insert_stamp", **stamp())
        assert await d.rows(STORED, row.id) == [
            (
                AT.timestamp(),
                "2030-02-28 21:08:58-05",
                "2030-03-01 07:38:58",
                "2030-03-01",
                '{"2030-02-28 21:08:58-05",NULL}',
                "{a,b}",
                "{NULL,x}",
                "{ok,sad}",
                "sad",
                '{"a": [1, 2.5, null, "é"], "b": true, "c": {"d": "x"}}',
            )
        ]
        expected = models.Stamp(row.id, **stamp())
        assert row == expected
        assert await d.call("query", "get_stamp", id=row.id) == expected
        assert row.at.utcoffset() is not None and row.wall.utcoffset() is None

        empty = stamp(wall=None, day=None, ats=None, tags=[], loose=[], moods=[], mood=None)
        nulls = await d.call("query", "insert_stamp", **(empty | {"doc": None}))
        assert (await d.rows(STORED, nulls.id))[0][2:] == (
            None, None, None, "{}", "{}", "{}", None, None,
        )  # fmt: skip
        assert nulls == models.Stamp(nulls.id, **(empty | {"doc": None}))
        assert await d.call("query", "stamps_after", after=AT - datetime.timedelta(1)) == [
            row.id,
            nulls.id,
        ]

    run(target, meaning_url, "meaning_pkg", flow)


REFUSED: dict[str, tuple[str, dict[str, Any], str]] = {
    "naive datetime for timestamptz": (
        "insert_stamp",
        stamp(at=WALL),
        "insert_stamp: at: datetime.datetime(2030, 3, 1, 7, 38, 58) is naive;",
    ),
    "aware datetime for timestamp": ("insert_stamp", stamp(wall=AT), "insert_stamp: wall: "),
    "datetime for date": ("insert_stamp", stamp(day=WALL), "insert_stamp: day: "),
    "naive element of timestamptz[]": (
        "insert_stamp",
        stamp(ats=[AT, WALL]),
        "insert_stamp: ats: element [1] (datetime.datetime(2030, 3, 1, 7, 38, 58)) is naive",
    ),
    "None element of a proven array": (
        "insert_stamp",
        stamp(tags=["a", None]),
        "insert_stamp: tags: element 1 is None",
    ),
    "None element, cast parameter": (
        "set_tags",
        {"tags": [None], "id": 1},
        "set_tags: tags: element 0 is None",
    ),
    "naive filter": ("stamps_after", {"after": WALL}, "stamps_after: after: "),
    "naive datetime in a COPY row": (
        "copy_stamps",
        {
            "rows": [
                meaning.CopyStampsParams(AT, WALL, []),
                meaning.CopyStampsParams(WALL, None, []),
            ]
        },
        "copy_stamps: at: ",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("target", TARGETS)
def test_a_value_two_drivers_would_store_differently_is_refused_by_each(
    target: str, case: str, meaning_url: str, elsewhere: None
) -> None:
    """Refused before sending: the transaction stays usable and holds no row."""
    function, kwargs, message = REFUSED[case]

    async def flow(d: Driver) -> None:
        with pytest.raises(ParameterValueError) as refused:
            await d.call("query", function, **kwargs)
        assert str(refused.value).startswith(message)
        assert refused.value.where == message.split(": ")[0] + ": " + message.split(": ")[1]
        assert await d.rows("SELECT count(*) FROM stamps") == [(0,)]

    run(target, meaning_url, "meaning_pkg", flow)


def test_without_the_checks_the_drivers_store_one_naive_datetime_as_two_instants(
    meaning_url: str, elsewhere: None
) -> None:
    """Negative control (item 7): the generated SQL sent raw, as before the checks. A
    naive datetime is psycopg's session-TimeZone time and asyncpg's local time; an aware
    one for timestamp is a New York wall clock to psycopg and an error to asyncpg."""
    found: dict[str, Any] = {}

    def flow_of(target: str) -> Flow:
        async def flow(d: Driver) -> None:
            none: list[Any] = [None, None, None, [], [], [], None, None]
            await d.rows(meaning.INSERT_STAMP, WALL, *none)
            found[target] = (await d.rows("SELECT extract(epoch FROM at)::float8 FROM stamps"))[0][
                0
            ]
            try:
                (wall,) = await d.rows("SELECT $1::timestamp::text", AT)
                found[f"{target} wall"] = wall[0]
            except Exception as error:  # asyncpg's own error class
                found[f"{target} wall"] = type(error).__name__

        return flow

    for target in TARGETS:
        run(target, meaning_url, "meaning_pkg", flow_of(target))
    new_york = datetime.timezone(datetime.timedelta(hours=-5))
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    assert found["psycopg"] == found["psycopg-async"] == WALL.replace(tzinfo=new_york).timestamp()
    assert found["asyncpg"] == WALL.replace(tzinfo=tokyo).timestamp()
    assert found["psycopg wall"] == found["psycopg-async wall"] == "2030-02-28 21:08:58"
    assert found["asyncpg wall"] == "DataError"


@pytest.mark.parametrize("target", TARGETS)
def test_plue_sessions_and_topics_keep_one_meaning(
    target: str, database_url: str, elsewhere: None
) -> None:
    """create_auth_session stores an aware expiry as its instant and refuses a naive
    one; create_repository refuses a None topic before sending it. Negative control:
    the same insert sent raw reaches the server, whose CHECK (migration 0004) refuses
    it there, by constraint name."""

    async def flow(d: Driver) -> None:
        user = await d.call(
            "users", "create_user", username=unique_name("tz"), display_name="", bio="",
            is_admin=False,
        )  # fmt: skip
        expires = datetime.datetime.now(INDIA) + datetime.timedelta(days=1)
        key = sha256_hex(unique_name("session"))
        args = {"user_id": user.id, "session_key_hash": key, "user_agent": "t"}
        session = await d.call("auth", "create_auth_session", expires_at=expires, **args)
        assert session is not None and session.expires_at == expires
        epoch = await d.rows(
            "SELECT extract(epoch FROM expires_at) FROM auth_sessions WHERE session_key_hash = $1",
            key,
        )
        assert float(epoch[0][0]) == pytest.approx(expires.timestamp(), abs=1e-6)
        with pytest.raises(PlueValueError, match=r"^create_auth_session: expires_at: "):
            await d.call(
                "auth", "create_auth_session", expires_at=expires.replace(tzinfo=None),
                **(args | {"session_key_hash": sha256_hex("naive")}),
            )  # fmt: skip

        repo = {
            "owner_id": user.id, "name": unique_name("r"), "description": "",
            "is_public": True, "default_branch": "main",
        }  # fmt: skip
        with pytest.raises(PlueValueError, match=r"^create_repository: topics: element 0"):
            await d.call("repositories", "create_repository", topics=[None, "x"], **repo)
        made = await d.call("repositories", "create_repository", topics=["x"], **repo)
        assert made.topics == ["x"]

        values = [repo[k] for k in ("owner_id", "name", "description", "is_public")]
        values += ["main", [None, "x"]]
        values[1] = unique_name("raw")
        with pytest.raises(Exception, match="repositories_topics_no_nulls"):
            await d.rows(repositories.CREATE_REPOSITORY, *values)

    run(target, database_url, "plue_queries", flow)


@pytest.mark.parametrize("state", ["autocommit", "pipeline", "pipeline in autocommit"])
def test_a_refused_value_sends_nothing_in_any_connection_state(
    state: str, meaning_url: str, elsewhere: None
) -> None:
    """The check runs before the statement, so a refused value leaves an autocommit
    connection and a pipeline as they were: the pipeline's next sync succeeds and the
    row written before it stays (no aborted pipeline, nothing partial)."""
    with psycopg.connect(meaning_url, autocommit=state != "pipeline") as conn:
        try:
            with conn.pipeline() if "pipeline" in state else nullcontext():
                kept = meaning.insert_stamp(conn, **stamp())
                with pytest.raises(ParameterValueError, match=r"^insert_stamp: at: "):
                    meaning.insert_stamp(conn, **stamp(at=WALL))
                with pytest.raises(ParameterValueError, match=r"^set_tags: tags: "):
                    meaning.set_tags(conn, tags=NONE_TAG, id=kept.id)
            assert meaning.get_stamp(conn, id=kept.id) == kept
            assert conn.execute("SELECT count(*) FROM stamps").fetchone() == (1,)
        finally:
            conn.rollback()
            conn.execute("DELETE FROM stamps")
            conn.commit()
