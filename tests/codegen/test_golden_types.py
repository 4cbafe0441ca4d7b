"""Each type golden (tests/golden/types_*) round-trips on a real server: its generated
``:one`` takes a value of every column type as a parameter and returns it, equal (or as
PostgreSQL's canonical text where the annotation is ``str``), and every returned value
is an instance of the function's annotation (plue_db.typecheck.runtime_types). Extension types run
on the servers that have the extension (tests/codegen/extensions.py)."""

from __future__ import annotations

import datetime
import decimal
import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg.types import TypeInfo
from psycopg.types.hstore import register_hstore
from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from plue_db.typecheck.runtime_types import Checker
from tests.codegen.codegen_support import copy_fixture, run_sqlc
from tests.codegen.extensions import extensions_of, skip_without
from tests.fixtures.fix_db import Conn, fresh_database
from tests.paths import GOLDEN

UTC = datetime.UTC
D = decimal.Decimal
DAY = datetime.date(2024, 2, 29)
NOON = datetime.datetime(2024, 2, 29, 12, 30)
YEAR = datetime.timedelta(days=365)


def ranges_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {
        "r4": Range(1, 5),
        "r8": Range(1, 5_000_000_000),
        "rn": Range(D("1.5"), D("2.5")),
        "rd": Range(DAY, DAY + datetime.timedelta(days=3)),
        "rts": Range(NOON, None),
        "rtz": Range(NOON.replace(tzinfo=UTC), NOON.replace(tzinfo=UTC) + YEAR),
        "m4": Multirange([Range(1, 3), Range(5, 7)]),
        "m8": Multirange([Range(1, 3)]),
        "mn": Multirange([Range(D("1.5"), D("3"))]),
        "md": Multirange([Range(DAY, DAY + datetime.timedelta(days=1))]),
        "mts": Multirange([Range(NOON, None)]),
        "mtz": Multirange(),
        "r4s": [Range(1, 2), Range(3, 4)],
    }
    return query.add_span, args, args


def text_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {
        "p": "(1,2)",
        "ln": "{1,2,3}",
        "ls": "[(1,2),(3,4)]",
        "b": "(3,4),(1,2)",
        "pa": "[(1,2),(3,4)]",
        "pg": "((1,2),(3,4),(5,6))",
        "c": "<(1,2),3>",
        "mac": "08:00:2b:01:02:03",
        "mac8": "08:00:2b:01:02:03:04:05",
        "tv": "'a' 'cat' 'fat'",
        "tq": "'fat' & 'cat'",
        "bt": "101",
        "vb": "1011",
        "mo": "$1,234.50",
        "lsn": "16/B374D848",
        "pts": ["(1,2)", "(3,4)"],
    }
    return query.add_shape, args, args


def hstore_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {"attrs": {"a": "1", "b": None}, "history": [{"x": "y"}, {}]}
    return query.add_setting, args, args


def ltree_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    # An array of a type psycopg doesn't know: a list going in, its text literal back.
    args = {"path": "top.science", "aliases": ["a.b", "c"]}
    return query.add_category, args, {**args, "aliases": "{a.b,c}"}


def citext_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {"email": "MiXeD@example.org", "aliases": ["A", "b"]}
    return query.add_account, args, {**args, "aliases": "{A,b}"}


def vector_case(query: ModuleType) -> tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]:
    args = {"embedding": "[1,2,3]", "history": ["[1,2,3]", "[4,5,6]"]}
    return query.add_embedding, args, {**args, "history": '{"[1,2,3]","[4,5,6]"}'}


CASES = {
    "types_ranges": ranges_case,
    "types_text": text_case,
    "types_hstore": hstore_case,
    "types_ltree": ltree_case,
    "types_citext": citext_case,
    "types_vector": vector_case,
}


def package(fixture: str) -> str:
    """The fixture's generated package, importable from its expected/ directory."""
    expected = GOLDEN / fixture / "expected"
    if str(expected) not in sys.path:
        sys.path.append(str(expected))
    (name,) = [p.name for p in expected.iterdir() if (p / "__init__.py").is_file()]
    return name


@pytest.fixture
def fixture_conn(request: pytest.FixtureRequest, server_url: str) -> Iterator[Conn]:
    fixture: str = request.param
    schema = GOLDEN / fixture / "schema.sql"
    for extension in extensions_of(schema):
        skip_without(extension, server_url)
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        conn.execute("SET lc_monetary = 'C'")
        if "hstore" in extensions_of(schema):  # the registration the annotation needs
            info = TypeInfo.fetch(conn, "hstore")
            assert info is not None
            register_hstore(info, conn)
        yield conn


# option model_type (codegen/README.md, "Model types"): each fixture is generated once
# per kind into a temporary directory; dataclass is its expected/ package.
MODEL_TYPES = ("dataclass", "attrs", "msgspec", "pydantic")
_generated: dict[tuple[str, str], str] = {}


def package_of(fixture: str, model_type: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The fixture's package with ``model_type``'s row classes, importable."""
    if model_type == "dataclass":
        return package(fixture)
    if (fixture, model_type) not in _generated:
        name = package(fixture)
        work = copy_fixture(GOLDEN / fixture, tmp_path_factory.mktemp(model_type))
        config = (work / "sqlc.yaml").read_text()
        own = f"{name}_{model_type}"
        config = config.replace(f"out: expected/{name}", f"out: expected/{own}").replace(
            f"package: {name}", f"package: {own}\n          model_type: {model_type}"
        )
        (work / "sqlc.yaml").write_text(config)
        done = run_sqlc(work)
        assert done.returncode == 0, done.stderr
        sys.path.append(str(work / "expected"))
        _generated[fixture, model_type] = own
    return _generated[fixture, model_type]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
@pytest.mark.parametrize("fixture_conn", sorted(CASES), indirect=True)
def test_every_type_round_trips_through_a_generated_one(
    fixture_conn: Conn,
    model_type: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    fixture = request.node.callspec.params["fixture_conn"]
    name = package_of(fixture, model_type, tmp_path_factory)
    query = importlib.import_module(f"{name}.query")
    function, args, expected = CASES[fixture](query)
    row = function(fixture_conn, **args)
    assert {key: getattr(row, key) for key in expected} == expected
    checker = Checker(vars(importlib.import_module(f"{name}.types")))
    assert checker.returned(function, row, fixture) == []


def test_xml_round_trips(server_url: str) -> None:
    """xml needs a server built with libxml (Debian's 15 is, the embedded 16 is not)."""
    skip_without("xml", server_url)
    query = importlib.import_module(f"{package('types_text')}.query")
    schema = GOLDEN / "types_text" / "schema.sql"
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        document = query.add_document(conn, body="<a>1</a>")
    assert document.body == "<a>1</a>"
    assert isinstance(document.id, int)


def test_a_wrong_value_is_seen() -> None:
    """The control: a value that is not its annotation's type is reported."""
    query = importlib.import_module(f"{package('types_ranges')}.query")
    checker = Checker(vars(importlib.import_module(f"{package('types_ranges')}.types")))
    model = importlib.import_module(f"{package('types_ranges')}.models")
    good = {f: None for f in model.Span.__dataclass_fields__} | {"id": 1, "r4": Range(1, 2)}
    assert checker.returned(query.add_span, model.Span(**good), "ok") == []
    bad = model.Span(**(good | {"rd": Range(NOON, NOON)}))  # datetimes in a Range[date]
    assert checker.returned(query.add_span, bad, "bad") != []
