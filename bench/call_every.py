"""Call every generated function of a package with arguments made from its signature, on
empty tables and then on seeded ones, and check each returned value against its
annotation (plue_db.runtime_types).

Run by bench.real_apps in a subprocess whose PYTHONPATH has the generated package, on a
database that holds the entry's schema::

    python -m bench.call_every <package> <database-url>

prints one JSON object: counts of calls that returned values of their annotations
(``ok``), that PostgreSQL refused because of the data (``pg_error``), and every other
outcome (``failures``: a Python error, an unadaptable parameter, a value that is not its
annotation), one line each.

Arguments are the same for every call: 1, "a", the UUID ...0001, so that the rows the
seeding calls insert reference each other (a foreign key of 1 finds the row of id 1).
Seeding runs every writing function (the INSERTs) three times, committing each that
succeeds; every other call runs in a transaction that is rolled back.
"""

from __future__ import annotations

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
from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from plue_db.runtime_types import Checker, Json

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


@dataclasses.dataclass(frozen=True)
class Call:
    where: str
    function: Callable[..., Any]
    kwargs: dict[str, object]
    positional: tuple[object, ...]
    writes: bool
    stream: bool

    def run(self, conn: psycopg.Connection[Any]) -> object:
        result = self.function(conn, *self.positional, **self.kwargs)
        return list(result) if self.stream else result


def calls(package: str, checker: Checker, labels: dict[str, str]) -> list[Call]:
    """One call per function of the manifest, and per stream (iter_*) beside a :many."""
    folder = Path(importlib.import_module(package).__path__[0])
    manifest = json.loads((folder / "manifest.json").read_text())
    found: list[Call] = []
    for entry in manifest["functions"]:
        module = importlib.import_module(f"{package}.{entry['module']}")
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
                )
            )
    return found


def enum_labels(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT DISTINCT ON (t.oid) t.typname::text, e.enumlabel::text FROM pg_enum e"
        " JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.oid, e.enumsortorder"
    ).fetchall()
    conn.rollback()
    return dict(rows)


def play(conn: psycopg.Connection[Any], call: Call, checker: Checker, outcome: Outcome) -> None:
    """One call in a transaction rolled back afterwards; its outcome counted."""
    try:
        value = call.run(conn)
    except psycopg.Error as error:
        state = error.sqlstate or ""
        if state.startswith(DATA_ERRORS):
            outcome.pg_error += 1
        else:
            outcome.failures.append(f"{call.where}: {type(error).__name__} [{state}] {error}")
    except Exception as error:  # any other error is the generated code's: report it
        outcome.failures.append(f"{call.where}: {type(error).__name__}: {error}")
    else:
        mismatches = checker.returned(call.function, value, call.where)
        if mismatches:
            outcome.failures.extend(mismatches)
        else:
            outcome.ok += 1
    finally:
        conn.rollback()


def seed(conn: psycopg.Connection[Any], found: list[Call]) -> int:
    """Run every writing call three times (rows whose foreign keys need other rows come
    later), committing each that succeeds; the number of successes."""
    done = 0
    for _ in range(3):
        for call in found:
            if not call.writes:
                continue
            try:
                call.run(conn)
            except Exception:  # seeding takes what succeeds; the checked pass reports
                conn.rollback()
            else:
                conn.commit()
                done += 1
    return done


def main(argv: list[str]) -> int:
    package, url = argv
    types_module = importlib.import_module(f"{package}.types")
    checker = Checker(vars(types_module))
    CHECKER_NAMES.update(checker.namespace)
    with psycopg.connect(url) as conn:
        found = calls(package, checker, enum_labels(conn))
        empty, seeded = Outcome(), Outcome()
        for call in found:
            play(conn, call, checker, empty)
        seeds = seed(conn, found)
        for call in found:
            play(conn, call, checker, seeded)
    print(
        json.dumps(
            {
                "calls": len(found),
                "seeded": seeds,
                "empty": dataclasses.asdict(empty),
                "seeded_tables": dataclasses.asdict(seeded),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
