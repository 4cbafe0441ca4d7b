"""Call every generated function of a package with arguments made from its signature, on
empty tables and then on seeded ones, and check each returned value against its
annotation (plue_db.typecheck.runtime_types).

Run by bench.real_apps in a subprocess whose PYTHONPATH has the generated package, on a
database that holds the entry's schema::

    python -m bench.call_every <package> <database-url>

prints one JSON object: for each pass (empty, seeded tables) and target (sync psycopg,
``aio``, ``asyncpg`` after the package's init_connection), counts of calls that returned
values of their annotations (``ok``) and that PostgreSQL refused because of the data
(``pg_error``), the calls whose SQL PostgreSQL rejects whatever the data (``rejected``,
SQLSTATE class 42: a function the schema files lack, the project's own template text),
and every other outcome (``failures``: a Python error, an unadaptable parameter, a value
that is not its annotation), one line each.

Arguments are the same for every call: 1, "a", the UUID ...0001, so that the rows the
seeding calls insert reference each other (a foreign key of 1 finds the row of id 1).
Seeding runs every writing function (the INSERTs) three times, committing each that
succeeds; every other call runs in a transaction that is rolled back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import importlib
import inspect
import ipaddress
import json
import sys
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from plue_db.typecheck.runtime_types import Checker, Json

# SQLSTATE classes of errors the data causes, not the code: cardinality (21), data
# exception (22), integrity (23), triggered data change (27), serialization (40),
# object state such as currval before nextval (55), PL/pgSQL RAISE (P0).
DATA_ERRORS = ("21", "22", "23", "27", "40", "55", "P0")

# Text of types psycopg hands over as str, for a value PostgreSQL accepts.
TEXT_SAMPLES = {
    "bit": "1",
    "varbit": "1",
    "macaddr": "08:00:2b:01:02:03",
    "macaddr8": "08:00:2b:01:02:03:04:05",
    "point": "(1,2)",
    "box": "(0,0),(1,1)",
    "circle": "<(0,0),1>",
    "line": "{1,2,3}",
    "lseg": "[(0,0),(1,1)]",
    "path": "((0,0),(1,1))",
    "polygon": "((0,0),(1,1),(1,0))",
    "money": "1.00",
    "xml": "<a/>",
    "regclass": "pg_class",
    "regtype": "int4",
    "regproc": "now",
    "regnamespace": "public",
    "regrole": "postgres",
    "pg_lsn": "0/0",
    "ltree": "a.b",
    "jsonpath": "$",
    "tid": "(0,1)",
}
ONE_UUID = uuid.UUID(int=1)
NOW = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


@dataclasses.dataclass
class Outcome:
    ok: int = 0
    pg_error: int = 0
    rejected: list[str] = dataclasses.field(default_factory=list)  # class 42: the SQL itself
    failures: list[str] = dataclasses.field(default_factory=list)


class Arguments:
    """Values for annotations; ``bases`` maps a parameter's name to its PostgreSQL type,
    ``labels`` an enum type's name to its first label."""

    def __init__(self, bases: dict[str, str], labels: dict[str, str]) -> None:
        self.bases = bases
        self.labels = labels

    def value(self, hint: Any, name: str) -> object:
        origin = get_origin(hint)
        if hint is Json:
            return {"a": 1}
        if hint is object or hint is None or hint is type(None):
            return None
        if origin in (typing.Union, types.UnionType):
            arms = get_args(hint)
            if type(None) in arms:
                return None
            return self.value(arms[0], name)
        if origin in (list, Iterable, Sequence):
            return [self.value(get_args(hint)[0], name)]
        if origin in (dict, Mapping):
            return {"a": "b"}
        if origin is Range:
            item = self.value(get_args(hint)[0], name)
            return Range(item, None)
        if origin is Multirange:
            return Multirange([Range(self.value(get_args(hint)[0], name), None)])
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return next(iter(hint))
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            fields = typing.get_type_hints(hint, localns=CHECKER_NAMES)
            return hint(**{f: self.value(h, f) for f, h in fields.items()})
        return self.scalar(hint, self.bases.get(name, ""))

    def scalar(self, hint: Any, base: str) -> object:
        if hint is datetime.datetime:
            return NOW.replace(tzinfo=None) if base == "timestamp" else NOW
        if hint is datetime.time:
            return NOW.timetz() if base == "timetz" else NOW.time()
        if hint is str:
            return self.labels.get(base) or TEXT_SAMPLES.get(base, "a")
        samples: dict[Any, object] = {
            bool: True,
            int: 1,
            float: 1.0,
            decimal.Decimal: decimal.Decimal("1"),
            datetime.date: NOW.date(),
            datetime.timedelta: datetime.timedelta(hours=1),
            uuid.UUID: ONE_UUID,
            bytes: b"a",
            ipaddress.IPv4Address: ipaddress.IPv4Address("10.0.0.1"),
            ipaddress.IPv4Interface: ipaddress.IPv4Interface("10.0.0.1/24"),
            ipaddress.IPv4Network: ipaddress.IPv4Network("10.0.0.0/24"),
        }
        if hint in samples:
            return samples[hint]
        raise TypeError(f"no sample value for {hint!r}")


CHECKER_NAMES: dict[str, Any] = {}


class DriverChecker(Checker):
    """plue_db's checker, taking asyncpg's uuid (a subclass of uuid.UUID, equal and
    hashing alike) for the uuid.UUID it is documented to be (docs/generated-api.md)."""

    def instance(self, value: object, cls: type, where: str) -> list[str]:
        if cls is uuid.UUID and isinstance(value, uuid.UUID):
            return []
        return super().instance(value, cls, where)


@dataclasses.dataclass(frozen=True)
class Call:
    """One function with its arguments, and its twins in aio/ and asyncpg/ (None when
    not generated: emit_async off, or left out of the asyncpg target)."""

    where: str
    function: Callable[..., Any]
    kwargs: dict[str, object]
    positional: tuple[object, ...]
    writes: bool
    stream: bool
    twins: dict[str, Callable[..., Any] | None]

    def run(self, conn: psycopg.Connection[Any]) -> object:
        result = self.function(conn, *self.positional, **self.kwargs)
        return list(result) if self.stream else result

    async def run_async(self, target: str, conn: Any) -> object:
        function = self.twins[target]
        assert function is not None
        result = function(conn, *self.positional, **self.kwargs)
        if self.stream:
            return [item async for item in result]
        return await result


def calls(package: str, checker: Checker, labels: dict[str, str]) -> list[Call]:
    """One call per function of the manifest, and per stream (iter_*) beside a :many."""
    folder = Path(importlib.import_module(package).__path__[0])
    manifest = json.loads((folder / "manifest.json").read_text())
    found: list[Call] = []
    for entry in manifest["functions"]:
        module = importlib.import_module(f"{package}.{entry['module']}")
        twins = {target: twin_module(package, target, entry["module"]) for target in ASYNC}
        arguments = Arguments({p["name"]: p["type"]["base"] for p in entry["params"]}, labels)
        writes = entry["write_reason"] == "INSERT"
        names = [entry["name"]] + ([entry["stream"]] if entry["stream"] else [])
        for name in names:
            function = getattr(module, name)
            hints = checker.hints(function)
            kwargs: dict[str, object] = {}
            positional: list[object] = []
            for parameter in list(inspect.signature(function).parameters.values())[1:]:
                if parameter.default is not parameter.empty:  # None, or batch_size
                    continue
                value = arguments.value(hints[parameter.name], parameter.name)
                if parameter.kind is parameter.KEYWORD_ONLY:
                    kwargs[parameter.name] = value
                else:
                    positional.append(value)
            found.append(
                Call(
                    f"{entry['module']}.{name}",
                    function,
                    kwargs,
                    tuple(positional),
                    writes,
                    name == entry["stream"],
                    {t: getattr(m, name, None) if m else None for t, m in twins.items()},
                )
            )
    return found


ASYNC = ("aio", "asyncpg")


def twin_module(package: str, target: str, module: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(f"{package}.{target}.{module}")
    except ModuleNotFoundError:
        return None


def enum_labels(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT DISTINCT ON (t.oid) t.typname::text, e.enumlabel::text FROM pg_enum e"
        " JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.oid, e.enumsortorder"
    ).fetchall()
    conn.rollback()
    return dict(rows)


def count(
    outcome: Outcome, where: str, checker: Checker, function: Callable[..., Any], value: object
) -> None:
    """A returned value: ok, or each place that is not its annotation a failure."""
    mismatches = checker.returned(function, value, where)
    if mismatches:
        outcome.failures.extend(mismatches)
    else:
        outcome.ok += 1


def failed(outcome: Outcome, where: str, error: BaseException) -> None:
    """An error of PostgreSQL's because of the data (DATA_ERRORS) or a failure."""
    state = getattr(error, "sqlstate", None) or ""
    if state.startswith(DATA_ERRORS):
        outcome.pg_error += 1
    elif state.startswith("42"):
        outcome.rejected.append(f"{where}: [{state}] {str(error).splitlines()[0]}")
    else:
        outcome.failures.append(f"{where}: {type(error).__name__} [{state}] {error}")


def play(conn: psycopg.Connection[Any], call: Call, checker: Checker, outcome: Outcome) -> None:
    """One sync call in a transaction rolled back afterwards; its outcome counted."""
    try:
        value = call.run(conn)
    except Exception as error:  # any error is counted: the data's, or a failure
        failed(outcome, f"sync {call.where}", error)
    else:
        count(outcome, f"sync {call.where}", checker, call.function, value)
    finally:
        conn.rollback()


async def play_async(
    url: str, found: list[Call], checker: Checker, outcomes: dict[str, Outcome]
) -> None:
    """Every call on psycopg's AsyncConnection and on asyncpg (after the package's
    init_connection), each in a transaction rolled back afterwards."""
    async with await psycopg.AsyncConnection.connect(url) as aconn:
        for call in found:
            if call.twins["aio"] is None:
                continue
            where = f"aio {call.where}"
            try:
                value = await call.run_async("aio", aconn)
            except Exception as error:  # counted as above
                failed(outcomes["aio"], where, error)
            else:
                count(outcomes["aio"], where, checker, call.twins["aio"], value)
            finally:
                await aconn.rollback()
    if not any(call.twins["asyncpg"] for call in found):
        return
    import asyncpg

    package = found[0].function.__module__.split(".")[0]
    params = conninfo_to_dict(url)  # asyncpg takes a URL, not libpq's key=value text
    conn = await asyncpg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password"),
        database=params.get("dbname"),
    )
    try:
        await importlib.import_module(f"{package}._asyncpg").init_connection(conn)
        for call in found:
            if call.twins["asyncpg"] is None:
                continue
            where = f"asyncpg {call.where}"
            transaction = conn.transaction()
            await transaction.start()
            try:
                value = await call.run_async("asyncpg", conn)
            except Exception as error:  # counted as above
                failed(outcomes["asyncpg"], where, error)
            else:
                count(outcomes["asyncpg"], where, checker, call.twins["asyncpg"], value)
            finally:
                await transaction.rollback()
    finally:
        await conn.close()


def seed(conn: psycopg.Connection[Any], found: list[Call]) -> int:
    """Run every writing call three times (rows whose foreign keys need other rows come
    later), committing each that succeeds; the number of successes. Those with more
    arguments go first: an insert that takes the key (create_project_with_id) makes the
    row of id ...0001 that the others' foreign keys name, where one whose key is a
    random default would take the unique name first."""
    writers = sorted((c for c in found if c.writes), key=lambda c: -len(c.kwargs))
    done = 0
    for _ in range(3):
        for call in writers:
            try:
                call.run(conn)
            except Exception:  # seeding takes what succeeds; the checked pass reports
                conn.rollback()
            else:
                conn.commit()
                done += 1
    return done


def one_pass(
    url: str, conn: psycopg.Connection[Any], found: list[Call], checker: Checker
) -> dict[str, Any]:
    outcomes = {"sync": Outcome(), "aio": Outcome(), "asyncpg": Outcome()}
    for call in found:
        play(conn, call, checker, outcomes["sync"])
    asyncio.run(play_async(url, found, checker, outcomes))
    return {target: dataclasses.asdict(outcome) for target, outcome in outcomes.items()}


def main(argv: list[str]) -> int:
    package, url = argv
    types_module = importlib.import_module(f"{package}.types")
    checker = DriverChecker(vars(types_module))
    CHECKER_NAMES.update(checker.namespace)
    with psycopg.connect(url) as conn:
        found = calls(package, checker, enum_labels(conn))
        empty = one_pass(url, conn, found, checker)
        seeds = seed(conn, found)
        seeded = one_pass(url, conn, found, checker)
    print(
        json.dumps({"calls": len(found), "seeded": seeds, "empty": empty, "seeded_tables": seeded})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
