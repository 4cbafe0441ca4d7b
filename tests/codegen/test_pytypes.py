"""Every PostgreSQL type's annotation is what psycopg really returns, PostgreSQL judging.

Each row names a type, a literal of it and the annotation pytypes gives it. On a real
server the literal is read through a RawCursor in text format (as generated code reads)
and the value must be an instance of the annotation; then it is written back as a
parameter and must read back equal. Extension types run on every reachable server that
has the extension (hstore, ltree, citext on Debian's PostgreSQL 15, vector on the
embedded 16); with none, the test skips, or fails under CI=true.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import os
import uuid
from typing import Any

import psycopg
import psycopg.types.json
import psycopg.types.multirange
import psycopg.types.range
import pytest
from psycopg.pq import Format
from psycopg.types import TypeInfo
from psycopg.types.hstore import register_hstore
from sqlc_gen_psycopg import pytypes

from plue_db.typecheck.runtime_types import Checker
from tests.codegen.extensions import servers_with
from tests.fixtures.fix_db import Conn

NAMESPACE: dict[str, Any] = {
    "psycopg": psycopg,
    "datetime": datetime,
    "decimal": decimal,
    "uuid": uuid,
    "Inet": ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Interface,
    "Cidr": ipaddress.IPv4Network | ipaddress.IPv6Network,
}
R = "psycopg.types.range.Range"
M = "psycopg.types.multirange.Multirange"

CASES: list[tuple[str, str, str]] = [  # (SQL type, literal, annotation of a result)
    ("int2", "7", "int"),
    ("int4", "7", "int"),
    ("int8", "7", "int"),
    ("oid", "7", "int"),
    ("numeric", "1.50", "decimal.Decimal"),
    ("float4", "1.5", "float"),
    ("float8", "1.5", "float"),
    ("bool", "true", "bool"),
    ("bytea", "'\\x00ff'", "bytes"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "uuid.UUID"),
    ("date", "'2024-02-29'", "datetime.date"),
    ("time", "'12:30'", "datetime.time"),
    ("timetz", "'12:30+02'", "datetime.time"),
    ("timestamp", "'2024-02-29 12:30'", "datetime.datetime"),
    ("timestamptz", "'2024-02-29 12:30+00'", "datetime.datetime"),
    ("interval", "'1 day 2 hours'", "datetime.timedelta"),
    ("inet", "'10.1.2.3'", "Inet"),
    ("cidr", "'10.0.0.0/8'", "Cidr"),
    ("int4range", "'[1,5)'", f"{R}[int]"),
    ("int8range", "'[1,5000000000)'", f"{R}[int]"),
    ("numrange", "'[1.5,2.5)'", f"{R}[decimal.Decimal]"),
    ("daterange", "'[2024-01-01,2024-02-01)'", f"{R}[datetime.date]"),
    ("tsrange", "'[2024-01-01,)'", f"{R}[datetime.datetime]"),
    ("tstzrange", "'[2024-01-01 00:00+00,2024-02-01 00:00+00)'", f"{R}[datetime.datetime]"),
    ("int4multirange", "'{[1,3),[5,7)}'", f"{M}[int]"),
    ("int8multirange", "'{[1,3)}'", f"{M}[int]"),
    ("nummultirange", "'{[1.5,3)}'", f"{M}[decimal.Decimal]"),
    ("datemultirange", "'{[2024-01-01,2024-02-01)}'", f"{M}[datetime.date]"),
    ("tsmultirange", "'{[2024-01-01,)}'", f"{M}[datetime.datetime]"),
    ("tstzmultirange", "'{}'", f"{M}[datetime.datetime]"),
    ("record", "row(1, 'a', NULL)", "tuple[str | None, ...]"),
    ("json", "'{\"a\": [1, null]}'", "JsonValue"),
    ("jsonb", "'{\"a\": [1, null]}'", "JsonValue"),
    ("text", "'a'", "str"),
    ("varchar", "'a'", "str"),
    ("bpchar", "'ab'", "str"),
    ("name", "'a'", "str"),
    ('"char"', "'a'", "str"),
    ("money", "'1234.5'", "str"),
    ("bit", "B'1'", "str"),
    ("varbit", "'1011'", "str"),
    ("point", "'(1,2)'", "str"),
    ("line", "'{1,2,3}'", "str"),
    ("lseg", "'[(1,2),(3,4)]'", "str"),
    ("box", "'(3,4),(1,2)'", "str"),
    ("path", "'[(1,2),(3,4)]'", "str"),
    ("polygon", "'((1,2),(3,4),(5,6))'", "str"),
    ("circle", "'<(1,2),3>'", "str"),
    ("macaddr", "'08:00:2b:01:02:03'", "str"),
    ("macaddr8", "'08:00:2b:01:02:03:04:05'", "str"),
    ("tsvector", "'a fat cat'", "str"),
    ("tsquery", "'fat & cat'", "str"),
    ("jsonpath", "'$.a'", "str"),
    ("pg_lsn", "'16/B374D848'", "str"),
    ("txid_snapshot", "'10:20:10,14,15'", "str"),
    ("xid", "'7'", "str"),
    ("xid8", "'7'", "str"),
    ("cid", "'7'", "str"),
    ("tid", "'(0,1)'", "str"),
    ("aclitem", "'postgres=r/postgres'", "str"),
    ("int2vector", "'1 2'", "str"),
    ("oidvector", "'1 2'", "str"),
    ("refcursor", "'c'", "str"),
    ("regclass", "'pg_class'", "str"),
    ("regcollation", "'\"C\"'", "str"),
    ("regconfig", "'simple'", "str"),
    ("regdictionary", "'simple'", "str"),
    ("regnamespace", "'public'", "str"),
    ("regoper", "'^@'", "str"),
    ("regoperator", "'||(text,text)'", "str"),
    ("regproc", "'now'", "str"),
    ("regprocedure", "'now()'", "str"),
    ("regrole", "'postgres'", "str"),
    ("regtype", "'int4'", "str"),
    ("void", "pg_sleep(0)", "str"),
    # Not in psycopg's registry (PostgreSQL 13's): text, and its array's text literal.
    ("pg_snapshot", "'10:20:10,14,15'", "str"),
    # Arrays: psycopg splits those of types it knows.
    ("int4range[]", "'{\"[1,2)\"}'", f"list[{R}[int]]"),
    ("point[]", "'{\"(1,2)\"}'", "list[str]"),
    ("money[][]", "'{{1.5}}'", "list[list[str]]"),
    ("pg_snapshot[]", "'{\"10:20:10\"}'", "str"),
]
NOT_TESTABLE = {"gtsvector": "no input function: no value can be written"}
# (extension, SQL type, literal, annotation of a result, annotation of a parameter)
EXTENSION_CASES = [
    ("xml", "xml", "'<a>1</a>'", "str"),  # a server feature (libxml), not an extension
    ("hstore", "hstore", "'a=>1, b=>NULL'", "dict[str, str | None]"),
    ("hstore", "hstore[]", "array['a=>1'::hstore]", "list[dict[str, str | None]]"),
    ("ltree", "ltree", "'top.science'", "str"),
    ("ltree", "ltree[]", "'{a.b,c}'", "str"),
    ("citext", "citext", "'MiXeD'", "str"),
    ("citext", "citext[]", "'{A,b}'", "str"),
    ("vector", "vector", "'[1,2,3]'", "str"),
    ("vector", "vector[]", "array['[1,2,3]'::vector]", "str"),
]


def described(sql_type: str, *, result: bool) -> str:
    name, _, brackets = sql_type.partition("[")
    found = pytypes.describe(pytypes.normalise(name), brackets.count("]"), result=result)
    assert found is not None, sql_type
    text = found.element.text()
    for _ in range(found.dims):
        text = f"list[{text}]"
    return text


def read_and_write_back(conn: Conn, sql_type: str, literal: str) -> object:
    """The literal as psycopg reads it, checked to survive a write as a parameter."""
    cursor = psycopg.RawCursor(conn)
    value = cursor.execute(f"SELECT ({literal})::{sql_type}").fetchone()[0]  # type: ignore[index]
    if sql_type not in ("void", "record", "gtsvector"):  # no input from a client
        dump = pytypes.SCALARS.get(sql_type, pytypes.TEXT).dump  # json/jsonb: a wrapper
        param = getattr(psycopg.types.json, dump)(value) if dump else value
        again = cursor.execute(f"SELECT $1::{sql_type}", (param,)).fetchone()[0]  # type: ignore[index]
        assert again == value, sql_type
    return value


def holds(value: object, annotation: str) -> list[str]:
    """Where ``value`` is not an instance of the annotation (runtime_types judges)."""
    checker = Checker(NAMESPACE)
    holder = type("Holder", (), {"__annotations__": {"v": annotation}})
    return checker.mismatches(value, checker.hints(holder)["v"], "value")


@pytest.mark.parametrize(("sql_type", "literal", "annotation"), CASES, ids=[c[0] for c in CASES])
def test_annotation_is_what_psycopg_returns(
    conn: Conn, sql_type: str, literal: str, annotation: str
) -> None:
    assert described(sql_type, result=True) == annotation
    value = read_and_write_back(conn, sql_type, literal)
    assert holds(value, annotation) == []
    if sql_type.endswith("[]"):  # a parameter array is a list, whatever psycopg reads
        assert described(sql_type, result=False).startswith("list[")


@pytest.mark.parametrize(
    ("extension", "sql_type", "literal", "annotation"),
    EXTENSION_CASES,
    ids=[c[1] for c in EXTENSION_CASES],
)
def test_extension_types_are_what_psycopg_returns(
    extension: str, sql_type: str, literal: str, annotation: str
) -> None:
    from plue_db.servers.scratch import scratch_database

    assert described(sql_type, result=True) == annotation
    servers = list(servers_with(extension))
    if not servers:
        message = f"no reachable server has the {extension} extension"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    for server in servers:
        with scratch_database(server, prefix="plue_ext") as url, psycopg.connect(url) as conn:
            if extension != "xml":
                conn.execute(f"CREATE EXTENSION {extension}")
            if extension == "hstore":  # the one registration the annotation needs
                register_hstore(TypeInfo.fetch(conn, "hstore"), conn)  # type: ignore[arg-type]
            value = read_and_write_back(conn, sql_type, literal)
            assert holds(value, annotation) == [], server


def test_hstore_without_its_registration_is_text(conn: Conn) -> None:
    """The negative control for the registration: without it psycopg returns text."""
    servers = list(servers_with("hstore"))
    if not servers:
        pytest.skip("no reachable server has hstore")
    from plue_db.servers.scratch import scratch_database

    with scratch_database(servers[0], prefix="plue_ext") as url, psycopg.connect(url) as other:
        other.execute("CREATE EXTENSION hstore")
        value = psycopg.RawCursor(other).execute("SELECT 'a=>1'::hstore").fetchone()
    assert value == ('"a"=>"1"',)
    assert holds(value[0], "dict[str, str | None]") != []


def test_every_type_psycopg_knows_is_described_as_it_loads_it() -> None:
    """pytypes against psycopg's own registry: a type with a (non-text) loader maps to
    something other than str, every other type to str; all of them load as lists."""
    seen = set()
    for info in psycopg.postgres.types:
        if info.name.startswith("_") or info.oid == info.array_oid:
            continue
        seen.add(info.name)
        loader = psycopg.postgres.adapters.get_loader(info.oid, Format.TEXT)
        as_text = loader is None or loader.__name__ == "TextLoader"
        assert (described(info.name, result=True) == "str") is as_text, info.name
        assert pytypes.element(info.name) is not None, info.name
    known = set(pytypes.SCALARS) | set(pytypes.RANGES) | set(pytypes.MULTIRANGES)
    assert known - seen == {"void"}  # psycopg leaves void out; PostgreSQL sends ''
    assert pytypes.element("ltree") is None  # control: unknown to psycopg


def test_every_described_type_has_a_case() -> None:
    covered = {c[0] for c in CASES} | {c[1] for c in EXTENSION_CASES} | set(NOT_TESTABLE)
    known = set(pytypes.SCALARS) | set(pytypes.RANGES) | set(pytypes.MULTIRANGES)
    assert known - covered == set()
    assert set(pytypes.REGISTERED) <= {c[0] for c in EXTENSION_CASES}


@pytest.mark.parametrize("name", sorted(pytypes.UNRESOLVED - {""}))
def test_pseudo_types_are_described_by_nothing(name: str) -> None:
    assert pytypes.describe(name, 0, result=True) is None
    assert pytypes.describe(name, 1, result=False) is None
