"""The generator's typed model, table-driven: command properties, how symbols and
annotations are spelled (and imported) in each module, how results decode a row, and
the imports computed from a finished module."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlc_gen_psycopg import docstrings, imports, render
from sqlc_gen_psycopg.access import READ_ONLY, Access
from sqlc_gen_psycopg.cursors import Cursor
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model.commands import Command, Shape
from sqlc_gen_psycopg.model.package import (
    ASYNC,
    ASYNCPG,
    SYNC,
    Flavor,
    Function,
    Module,
    Param,
    Violation,
)
from sqlc_gen_psycopg.model.results import (
    Column,
    DataClass,
    DbType,
    Embed,
    EnumLookup,
    Field,
    ModelResult,
    RowResult,
    Value,
)
from sqlc_gen_psycopg.model.types import (
    INT,
    Scope,
    Symbol,
    attribute,
    builtin,
    from_import,
    in_package,
    list_of,
    ref,
    verbatim,
)
from sqlc_gen_psycopg.options import parse_options

QUERIES = Scope("pkg", "pkg.issues")
MODELS = Scope("pkg", "pkg.models")
TWIN = Scope("pkg", "pkg.aio.issues", {"pkg.issues": "q"})

COMMANDS = [
    # command, returns_rows, single_row, batch, streams
    (":one", True, True, False, False),
    (":many", True, False, False, True),
    (":exec", False, False, False, False),
    (":execrows", False, False, False, False),
    (":execresult", False, False, False, False),
    (":copyfrom", False, False, True, False),
    (":batchexec", False, False, True, False),
    (":batchone", True, True, True, False),
    (":batchmany", True, False, True, False),
]


@pytest.mark.parametrize(("text", "rows", "single", "batch", "streams"), COMMANDS)
def test_command_properties(
    text: str, rows: bool, single: bool, batch: bool, streams: bool
) -> None:
    command = Command.parse(text, "q.sql: query X")
    assert (command.returns_rows, command.single_row, command.batch, command.streams) == (
        rows,
        single,
        batch,
        streams,
    )


def test_unknown_command_names_the_query_and_the_known_ones() -> None:
    with pytest.raises(GenerationError, match=r"q.sql: query X: unknown command :two; use one of"):
        Command.parse(":two", "q.sql: query X")


ISSUE = in_package(".models", "Issue")
SYMBOLS = [
    # symbol, scope, text, import line (None: no import)
    (builtin("int"), QUERIES, "int", None),
    (attribute("datetime", "date"), QUERIES, "datetime.date", "import datetime"),
    (from_import(".types", "JsonValue"), QUERIES, "JsonValue", "from pkg.types import JsonValue"),
    (ISSUE, QUERIES, "models.Issue", "from pkg import models"),
    (ISSUE, MODELS, "Issue", None),  # models.py names its own classes bare
    (in_package(".issues", "GetRow"), QUERIES, "GetRow", None),
    (in_package(".issues", "GetRow"), TWIN, "q.GetRow", "from pkg import issues as q"),
    (verbatim("tuned.Money", "tuned"), QUERIES, "tuned.Money", "import tuned"),
    (verbatim("int", ""), QUERIES, "int", None),
]


@pytest.mark.parametrize(("symbol", "scope", "text", "line"), SYMBOLS)
def test_symbols_are_spelled_and_imported_per_module(
    symbol: Symbol, scope: Scope, text: str, line: str | None
) -> None:
    found = symbol.import_(scope)
    assert (symbol.text(scope), found.line() if found else None) == (text, line)


def test_type_refs_nest_and_add_none_once() -> None:
    nested = list_of(ref(ISSUE), 2).or_none()
    assert nested.text(QUERIES) == "list[list[models.Issue]] | None"
    assert nested.or_none().text(MODELS) == "list[list[Issue]] | None"
    assert INT.or_none(False).text(QUERIES) == "int"


STATE = EnumLookup(in_package(".enums", "STATE_BY_VALUE"))
VALUES = [
    # value, decoding expression in a query module
    (Value(0, None, True), "r[0]"),
    (Value(3, STATE, True), "enums.STATE_BY_VALUE[r[3]]"),
    (Value(3, STATE, False), "None if r[3] is None else enums.STATE_BY_VALUE[r[3]]"),
    (Embed(in_package(".models", "load_user"), 2, 4, None), "models.load_user(r[2:6])"),
    (
        Embed(in_package(".models", "load_user"), 2, 4, 2),
        "None if r[2] is None else models.load_user(r[2:6])",
    ),
]


@pytest.mark.parametrize(("value", "expr"), VALUES)
def test_values_decode_their_part_of_the_row(value: Value | Embed, expr: str) -> None:
    assert value.expr(QUERIES) == expr


def column(name: str, value: Value | Embed, annotation: str = "int") -> Column:
    return Column(name, ref(builtin(annotation)), value, True)


def row_function(command: Command, *values: Value) -> Function:
    row = DataClass(
        in_package(".issues", "GetRow"),
        "A row.",
        tuple(Field(f"c{i}", INT) for i in range(len(values))),
    )
    columns = tuple(column(f"c{i}", v) for i, v in enumerate(values))
    return Function(
        name="get",
        query_name="Get",
        command=command,
        constant=in_package(".issues", "GET"),
        sql="SELECT 1",
        doc="Get.",
        params=(),
        result=RowResult(row, columns),
        params_class=None,
        cursor=Cursor.ANY if command.streams else Cursor.NONE,
        access=READ_ONLY,
    )


SHAPES = [
    # command, always_row, shape
    (Command.ONE, True, Shape.ONE),
    (Command.ONE, False, Shape.ONE_OR_NONE),
    (Command.MANY, False, Shape.MANY),
    (Command.EXEC, False, Shape.EXEC),
    (Command.EXECROWS, False, Shape.EXECROWS),
    (Command.EXECRESULT, False, Shape.EXECRESULT),
    (Command.COPYFROM, False, Shape.COPYFROM),
    (Command.BATCHEXEC, False, Shape.BATCHEXEC),
    (Command.BATCHONE, True, Shape.BATCHONE),
    (Command.BATCHONE, False, Shape.BATCHONE_OR_NONE),
    (Command.BATCHMANY, False, Shape.BATCHMANY),
]


@pytest.mark.parametrize(("command", "always_row", "shape"), SHAPES)
def test_the_shape_follows_the_command_and_whether_a_row_always_comes(
    command: Command, always_row: bool, shape: Shape
) -> None:
    assert Shape.of(command, always_row=always_row) is shape


TEMPLATES = [
    # command, flavor, templates (a :many streams in row_function)
    (Command.ONE, SYNC, ("functions/sync/one_or_none.py.j2",)),
    (Command.ONE, ASYNC, ("functions/aio/one_or_none.py.j2",)),
    (Command.ONE, ASYNCPG, ("functions/asyncpg/one_or_none.py.j2",)),
    (Command.MANY, SYNC, ("functions/sync/many.py.j2", "functions/psycopg/stream.py.j2")),
    (Command.MANY, ASYNC, ("functions/aio/many.py.j2", "functions/psycopg/stream.py.j2")),
    (Command.MANY, ASYNCPG, ("functions/asyncpg/many.py.j2", "functions/asyncpg/stream.py.j2")),
    # batches print alike in both psycopg flavors
    (Command.BATCHMANY, SYNC, ("functions/psycopg/batchmany.py.j2",)),
    (Command.BATCHMANY, ASYNC, ("functions/psycopg/batchmany.py.j2",)),
    (Command.BATCHMANY, ASYNCPG, ("functions/asyncpg/batchmany.py.j2",)),
]


@pytest.mark.parametrize(("command", "flavor", "templates"), TEMPLATES)
def test_the_flavor_picks_the_templates_of_a_shape(
    command: Command, flavor: Flavor, templates: tuple[str, ...]
) -> None:
    assert flavor.templates(row_function(command, Value(0, None, True))) == templates


def test_every_function_template_is_one_the_model_picks() -> None:
    """No shape lacks its template and no template is left unused (control: the
    listing finds the files at all)."""
    picked = {
        template
        for command in Command
        for always_row in (True, False)
        for flavor in (SYNC, ASYNC, ASYNCPG)
        for template in flavor.templates(
            replace(row_function(command, Value(0, None, True)), always_row=always_row)
        )
    }
    on_disk = {
        str(path.relative_to(render.TEMPLATES))
        for path in (render.TEMPLATES / "functions").glob("*/*.py.j2")
    }
    assert len(on_disk) == 30
    assert picked == on_disk


def test_signatures_and_asyncpg_arguments_come_printed() -> None:
    bare = row_function(Command.MANY, Value(0, None, True))
    assert (bare.signature(QUERIES), bare.stream_signature(QUERIES), bare.trailing_args()) == (
        "",
        ", *",
        "",
    )
    param = Param("id", INT, None, False, DbType("int8", 0, "int8", 0, ""), "issues.id")
    taking = replace(bare, params=(param,))
    assert (taking.stream_signature(QUERIES), taking.trailing_args()) == (", *, id: int", ", id")
    marked = replace(bare, sql="-- name: Get :many\nSELECT 1")
    assert marked.marker == "-- name: Get :many"


def test_a_row_that_passes_through_is_unpacked_otherwise_built_positionally() -> None:
    plain = row_function(Command.MANY, Value(0, None, True), Value(1, None, True))
    assert plain.decode(QUERIES) == "GetRow(*r)"
    assert plain.decode(TWIN) == "q.GetRow(*r)"
    mixed = row_function(Command.MANY, Value(0, None, True), Value(1, STATE, True))
    assert mixed.decode(QUERIES) == "GetRow(r[0], enums.STATE_BY_VALUE[r[1]])"


def test_return_annotations_follow_the_command() -> None:
    one = row_function(Command.ONE, Value(0, None, True))
    assert one.returns.text(QUERIES) == "GetRow | None"
    assert row_function(Command.MANY, Value(0, None, True)).returns.text(TWIN) == "list[q.GetRow]"
    batch = row_function(Command.BATCHMANY, Value(0, None, True))
    assert batch.returns.text(QUERIES) == "list[list[GetRow]]"


def test_model_result_decodes_through_the_models_decoder() -> None:
    result = ModelResult(ref(ISSUE), in_package(".models", "load_issue"), ())
    assert (result.ref.text(QUERIES), result.decode(QUERIES)) == (
        "models.Issue",
        "models.load_issue(r)",
    )


def test_imports_are_what_the_module_uses() -> None:
    """A sync :many with an enum column: the cursor, the pipeline block, the stream, the generator,
    the enums module; the async twin reaches the row class through ``q``. Nothing else
    (no ExecResult, no NoRowError, no json wrapper)."""
    fn = row_function(Command.MANY, Value(0, None, True), Value(1, STATE, True))
    module = Module("issues", "issues.sql", (fn,))
    sync = imports.query_module(module, SYNC, QUERIES, classes=False)
    assert sync == [
        "from collections.abc import Generator",
        "from dataclasses import dataclass",
        "from pkg import enums",
        "from sqlc_gen_psycopg_runtime.cursors import thread_cursor",
        "from sqlc_gen_psycopg_runtime.pipeline import completed",
        "from sqlc_gen_psycopg_runtime.streams import ServerStream",
        "from typing import Any",
        "from typing import Final",
        "from typing import LiteralString",
        "import psycopg",
    ]
    twin = imports.query_module(module, ASYNC, TWIN, classes=False)
    assert "from pkg import issues as q" in twin
    assert "from sqlc_gen_psycopg_runtime.streams import AsyncServerStream" in twin
    assert "from sqlc_gen_psycopg_runtime.cursors import new_async_cursor" in twin  # traced
    assert "from typing import Final" in twin  # READ_ONLY_FUNCTIONS
    assert not any("dataclass" in line for line in twin)


JSONB = from_import("psycopg.types.json", "Jsonb")
JSON_ARGS = [
    # dims, nullable, driver, the value as handed to the driver
    (0, False, "psycopg", "Jsonb(g)"),
    (0, False, "asyncpg", "g"),  # asyncpg's codecs encode a json value themselves
    (1, False, "psycopg", "[Jsonb(_e1) for _e1 in g]"),
    (1, True, "psycopg", "None if g is None else [Jsonb(_e1) for _e1 in g]"),
    (1, False, "asyncpg", "[JsonItem(_e1) for _e1 in g]"),
    (2, False, "psycopg", "[[Jsonb(_e1) for _e1 in _e2] for _e2 in g]"),
]


@pytest.mark.parametrize(("dims", "nullable", "driver", "expected"), JSON_ARGS)
def test_json_parameters_are_wrapped_element_by_element(
    dims: int, nullable: bool, driver: str, expected: str
) -> None:
    """Issue 18 bug 2: a jsonb[] went to psycopg as a bare list (the dims 0 rows are the
    old shape, which psycopg can't adapt for a list of dicts)."""
    db_type = DbType("jsonb", dims, "jsonb", dims, "")
    param = Param("g", list_of(INT, dims), JSONB, nullable, db_type, "")
    assert param.arg(QUERIES, "", driver) == expected


def test_methods_call_the_function_of_their_name_with_its_parameters() -> None:
    """emit_classes: a method per function (its stream last), taking what the function
    takes after ``conn`` and passing each on by name; async twins await, streams don't."""
    param = Param("id", INT, None, False, DbType("int8", 0, "int8", 0, ""), "issues.id")
    many = replace(row_function(Command.MANY, Value(0, None, True)), params=(param,))
    main, stream = many.methods(QUERIES, SYNC)
    assert (main.def_, main.name, main.parameters, main.call) == (
        "def",
        "get",
        many.parameters(QUERIES),
        "get(self.conn, id=id)",
    )
    assert (stream.name, stream.parameters, stream.call) == (
        "iter_get",
        ", *, id: int, batch_size: int = 1000",
        "iter_get(self.conn, id=id, batch_size=batch_size)",
    )
    assert stream.returns == SYNC.generator(many.row)
    twin, twin_stream = many.methods(TWIN, ASYNC)
    assert (twin.def_, twin.call, twin_stream.def_) == (
        "async def",
        "await get(self.conn, id=id)",
        "def",
    )
    rows = DataClass(in_package(".issues", "GetParams"), "", (Field("id", INT),))
    batch = replace(many, command=Command.BATCHEXEC, params_class=rows, cursor=Cursor.NONE)
    (only,) = batch.methods(TWIN, ASYNCPG)
    assert (only.parameters, only.call) == (
        ", rows: Iterable[q.GetParams]",
        "await get(self.conn, rows)",
    )
    assert (SYNC.queries_class, ASYNC.queries_class, ASYNCPG.queries_class) == (
        "Queries",
        "AsyncQueries",
        "AsyncQueries",
    )


def test_a_parameter_object_replaces_the_keywords_everywhere() -> None:
    """query_parameter_limit: a non-batch function with a Params class takes it as
    ``params``, reads each value from it, passes it on from a method, and prints it
    apart from the plain dataclasses (frozen, keyword-only)."""
    param = Param("id", INT, None, True, DbType("int8", 0, "int8", 0, ""), "issues.id")
    many = replace(row_function(Command.MANY, Value(0, None, True)), params=(param,))
    assert (many.takes_object, many.signature(QUERIES), many.args(QUERIES)) == (
        False,
        ", *, id: int = None",
        "(id,)",
    )
    held = DataClass(in_package(".issues", "GetParams"), "", (Field("id", INT),))
    taking = replace(many, params_class=held)
    assert taking.takes_object
    assert (taking.signature(QUERIES), taking.signature(TWIN)) == (
        ", params: GetParams",
        ", params: q.GetParams",
    )
    assert taking.fields(QUERIES) == ["id: int = None"]
    assert (taking.args(QUERIES), taking.trailing_args(), taking.record("p.")) == (
        "(params.id,)",
        ", params.id",
        "(p.id,)",
    )
    assert taking.stream_parameters(QUERIES) == ", params: GetParams, *, batch_size: int = 1000"
    assert [m.call for m in taking.methods(QUERIES, SYNC)] == [
        "get(self.conn, params)",
        "iter_get(self.conn, params, batch_size=batch_size)",
    ]
    row, _ = taking.classes
    assert (taking.classes, taking.plain_classes) == ((row, held), (row,))
    batch = replace(taking, command=Command.BATCHEXEC, cursor=Cursor.NONE)
    assert (batch.takes_object, batch.plain_classes[-1]) == (False, held)


@pytest.mark.parametrize("value", [-1, True, "3", 1.5])
def test_query_parameter_limit_must_be_a_count(value: object) -> None:
    with pytest.raises(GenerationError, match="'query_parameter_limit' must be a number"):
        parse_options({"package": "p", "query_parameter_limit": value})


def test_query_parameter_limit_is_off_unless_set() -> None:
    assert parse_options({"package": "p"}).query_parameter_limit is None
    assert parse_options({"package": "p", "query_parameter_limit": 0}).query_parameter_limit == 0


def test_google_sections_come_from_the_model() -> None:
    """docstrings: google: Args from each parameter's type and column, Returns from the
    command and result (None when no row can come), Raises from what the function
    checks and the constraints its statement can violate; after ``doc``."""
    param = Param("bio", INT, None, True, DbType("pg_catalog.int8", 0, "int8", 0, ""), "a.bio")
    one = replace(row_function(Command.ONE, Value(0, None, True)), params=(param,))
    assert docstrings.google(one, "pkg") == (
        "Args:\n    bio (int8): meets a.bio; None sends NULL.\n\n"
        "Returns:\n    A GetRow, or None when no row matches."
    )
    violation = Violation("APkeyViolation", "a_pkey", "a", "primary key", "UniqueViolation")
    writing = replace(one, always_row=True, access=Access(False, "INSERT"), violations=(violation,))
    assert docstrings.google(writing, "pkg").split("\n\n")[1:] == [
        "Returns:\n    A GetRow.",
        "Raises:\n    NoRowError: the statement returned no row.\n"
        "    ReadOnlyConnectionError: on a read-only psycopg connection, before sending "
        "(INSERT).\n"
        "    APkeyViolation: primary key a_pkey on a (pkg.errors).",
    ]
    held = DataClass(in_package(".issues", "GetParams"), "", (Field("bio", INT),))
    assert docstrings.args(replace(one, params_class=held)) == [
        "params: a GetParams; fields:",
        "    bio (int8): meets a.bio; None sends NULL.",
    ]
    assert replace(one, sections="S").docstring == "Get.\n\nS"
    assert one.docstring == "Get."


def test_docstrings_option_takes_google_only() -> None:
    assert parse_options({"package": "p"}).docstrings == ""
    assert parse_options({"package": "p", "docstrings": "google"}).docstrings == "google"
    with pytest.raises(GenerationError, match="'docstrings' must be google, not 'numpy'"):
        parse_options({"package": "p", "docstrings": "numpy"})
