"""Naming rules of the generator, table-driven (pure functions; the golden fixtures
under tests/golden/ show the same rules end to end through sqlc and PostgreSQL)."""

from __future__ import annotations

import ast
import keyword
from pathlib import Path

import pytest
import yaml
from sqlc_gen_psycopg import naming, schema_info
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.options import parse_options

from tests.paths import GOLDEN, ROOT

SNAKE = [
    ("GetUserByID", "get_user_by_id"),
    ("GetBooksByIDs", "get_books_by_ids"),
    ("HTTPServer", "http_server"),
    ("ID", "id"),
    ("IDs", "ids"),
    ("ListPRsForRepo", "list_prs_for_repo"),
    ("GetIDsByURL", "get_ids_by_url"),
    ("IDsAndURLs", "ids_and_urls"),
    ("HTTPSServer", "https_server"),
    ("GetBooksByIDSorted", "get_books_by_id_sorted"),  # capital S starts a word
    ("ListIssuesV2", "list_issues_v2"),
    ("Sha256Hash", "sha256_hash"),
    ("GetAThing", "get_a_thing"),
    ("get_user", "get_user"),
    ("List", "list"),
    ("Get-User by id", "get_user_by_id"),
]


@pytest.mark.parametrize(("name", "expected"), SNAKE)
def test_snake(name: str, expected: str) -> None:
    assert naming.snake(name) == expected


PASCAL = [
    ("issue_state", (), "IssueState"),
    ("app_id", ("id",), "AppID"),
    ("app_id", (), "AppId"),
    ("api_url", ("api", "url"), "APIURL"),
    ("GetUserByID", ("id",), "GetUserByID"),  # CamelCase keeps its capitals
    ("identity", ("id",), "Identity"),  # whole parts only
    ("mood-kind", (), "MoodKind"),
]


@pytest.mark.parametrize(("name", "initialisms", "expected"), PASCAL)
def test_pascal(name: str, initialisms: tuple[str, ...], expected: str) -> None:
    assert naming.pascal(name, initialisms) == expected


@pytest.mark.parametrize(
    ("table", "expected"),
    [("repositories", "Repository"), ("app_ids", "AppID"), ("statuses", "Status")],
)
def test_model_name(table: str, expected: str) -> None:
    assert naming.model_name(table) == expected


PYTHON_NAMES = [
    ("user_id", "user_id"),
    ("Name", "Name"),
    ("new notes", "new_notes"),
    ("3p%", "_3p"),
    ("__secret", "_secret"),  # Python would mangle __secret inside a class
    ("__init__", "_init__"),
    ("naïve", "naïve"),
    ("ﬁle", "file"),  # NFKC, as Python itself reads identifiers
    ("%", ""),
    ("", ""),
]


@pytest.mark.parametrize(("name", "expected"), PYTHON_NAMES)
def test_python_name(name: str, expected: str) -> None:
    assert naming.python_name(name) == expected


@pytest.mark.parametrize(
    ("name", "reserved", "expected"),
    [
        ("from", frozenset(), "from_"),
        ("match", frozenset(), "match_"),
        ("_", frozenset(), "__"),
        ("type", frozenset(), "type"),  # legal everywhere, and the commonest column name
        ("id", frozenset(), "id"),
        ("list", naming.BUILTINS, "list_"),
        ("conn", naming.SIGNATURE_NAMES, "conn_"),
        ("list_", naming.BUILTINS | {"list_"}, "list__"),
    ],
)
def test_escape(name: str, reserved: frozenset[str], expected: str) -> None:
    assert naming.escape(name, reserved) == expected


def test_keywords_are_fixed_not_the_running_pythons() -> None:
    assert set(keyword.kwlist) <= naming.KEYWORDS
    assert "type" not in naming.KEYWORDS and {"_", "case", "match"} <= naming.KEYWORDS


def test_identifier_without_a_usable_name_names_the_culprit() -> None:
    with pytest.raises(GenerationError, match=r"query X: column 2: cannot make .* '\?\?'"):
        naming.identifier("??", "query X: column 2")


ENUM_MEMBERS = [
    ("open", "OPEN"),
    ("in progress", "IN_PROGRESS"),
    ("in-progress", "IN_PROGRESS"),
    ("1st", "V_1ST"),
    ("#", "NUMBER_SIGN"),
    ("*", "ASTERISK"),
    ("-", "HYPHEN_MINUS"),
    ("<=", "LESS_THAN_SIGN_EQUALS_SIGN"),
    ("", "EMPTY"),
    ("café", "CAFÉ"),
    ("_x_", "X"),
]


@pytest.mark.parametrize(("value", "expected"), ENUM_MEMBERS)
def test_enum_member(value: str, expected: str) -> None:
    assert naming.enum_member(value) == expected


def test_enum_values_never_collapse_through_a_scope() -> None:
    values = ["#", "*", "-", "in progress", "in-progress", "in_progress", "1st", "", " ", "A"]
    scope = naming.Scope()
    members = [scope.claim(naming.enum_member(v), v) for v in values]
    assert members == [
        "NUMBER_SIGN",
        "ASTERISK",
        "HYPHEN_MINUS",
        "IN_PROGRESS",
        "IN_PROGRESS_2",
        "IN_PROGRESS_3",
        "V_1ST",
        "EMPTY",
        "SPACE",
        "A",
    ]
    assert all(m.isidentifier() and not keyword.iskeyword(m) for m in members)


def test_scope_numbers_clashes_like_sqlc() -> None:
    scope = naming.Scope()
    assert [scope.claim("id", f"${n}") for n in (1, 2, 3)] == ["id", "id_2", "id_3"]
    assert scope.claim("id_2", "$4") == "id_2_2"  # a real id_2 never takes a suffix's place
    assert scope.holder("id_2") == "$2" and scope.holder("name") is None
    classes = naming.Scope(separator="")
    assert [classes.claim("Pet", w) for w in ("table pets", "type pet")] == ["Pet", "Pet2"]
    builtins = naming.Scope(separator="", reserved=frozenset({"Exception"}))
    assert builtins.holder("Exception") == "the Python name Exception"
    assert builtins.claim("Exception", "table exceptions") == "Exception2"
    assert builtins.claim("Pet", "table pets") == "Pet"  # control: only reserved names move


def test_fallbacks_are_sqlcs() -> None:
    assert naming.fallback_parameter(3) == "dollar_3"
    assert naming.fallback_column(1) == "column_1"


def test_options_strict_names_and_initialisms() -> None:
    default = parse_options({"package": "pkg"})
    assert default.strict_names is False and default.initialisms == ("id",)
    tuned = parse_options({"package": "pkg", "strict_names": True, "initialisms": ["ID", "url"]})
    assert tuned.strict_names is True and tuned.initialisms == ("id", "url")
    assert parse_options({"package": "pkg", "initialisms": []}).initialisms == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"strict_names": "yes"}, "option 'strict_names' must be true or false, not 'yes'"),
        ({"emit_async": "false"}, "option 'emit_async' must be true or false, not 'false'"),
        ({"initialisms": "id"}, "option 'initialisms' must be a list of words"),
        ({"initialisms": ["i d"]}, "option 'initialisms' must be a list of words"),
        (
            {"model_type": "Pydantic"},
            "option 'model_type' must be one of dataclass, attrs, msgspec, pydantic,"
            " not 'Pydantic'",
        ),
    ],
)
def test_bad_option_values_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        parse_options({"package": "pkg", **raw})


def test_module_names_cover_every_import_of_generated_code() -> None:
    """Negative control built in: the check finds imports, so a missing name would fail."""
    root = ROOT / "generated" / "plue_queries"
    imported: set[str] = set()
    for path in root.rglob("*.py"):
        if path.name == "__init__.py":  # re-exports the query functions themselves
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    assert {"datetime", "psycopg", "models", "Any"} <= imported
    # Plue's overrides and json_types import its own modules (plue_db.json_shapes).
    [entry] = yaml.safe_load((ROOT / "sqlc.yaml").read_text())["sql"]
    options = parse_options(entry["codegen"][0]["options"])
    assert options.module_names == {"plue_db"}
    assert imported - naming.MODULE_NAMES - options.module_names == set()


def test_package_modules_cover_every_module_the_plugin_writes() -> None:
    """A query file named like one of them would replace it (models.sql: models_). The
    composite_targets golden has every kind (asyncpg too); its query module is the only
    other name."""
    root = GOLDEN / "composite_targets" / "expected" / "composite_targets"
    written = {p.stem for p in root.iterdir() if p.suffix == ".py" or p.is_dir()}
    assert {"models", "_asyncpg", "asyncpg", "aio"} <= written  # the control: it sees them
    assert written - naming.PACKAGE_MODULES - {"__init__", "__pycache__"} == {"query"}


def bound_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names the function's body binds: assignments, for/with targets, except clauses
    (comprehension targets are scoped to their comprehension, so can't rebind)."""
    bound: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.comprehension):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        if isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    comprehended = {
        name.id
        for node in ast.walk(fn)
        if isinstance(node, ast.comprehension)
        for name in ast.walk(node.target)
        if isinstance(name, ast.Name)
    }
    return bound - comprehended


def body_clashes(source: str) -> dict[str, set[str]]:
    """Per function of a query module: names that are both a parameter and bound in the
    body, and names bound that naming.LOCAL_NAMES (with ``stream`` in iter_*) lacks."""
    out: dict[str, set[str]] = {}
    for fn in ast.parse(source).body:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or not fn.args.kwonlyargs:
            continue  # batches and :copyfrom take (conn, rows) only
        params = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs]}
        allowed = naming.LOCAL_NAMES | ({"stream"} if fn.name.startswith("iter_") else set())
        bound = bound_names(fn)
        found = (bound & params) | (bound - allowed)
        if found:
            out[fn.name] = found
    return out


def query_modules() -> list[Path]:
    golden = [p for p in GOLDEN.glob("*/expected/*/**/*.py") if not p.name.startswith("_")]
    own = ("models.py", "enums.py", "types.py", "errors.py")
    return [p for p in golden if p.name not in own]


def test_function_bodies_bind_only_local_names() -> None:
    """Every golden package (naming_body_locals names its parameters after each local)
    and generated/: a body never rebinds a parameter, whatever the SQL names."""
    modules = query_modules() + sorted((ROOT / "generated" / "plue_queries").rglob("[!_]*.py"))
    assert len(modules) > 50
    assert {str(p): body_clashes(p.read_text()) for p in modules} == {str(p): {} for p in modules}
    # control: the old body of a function with a parameter named error
    old = (
        "def finish(conn, *, error):\n    cur = thread_cursor(conn)\n    try:\n"
        "        cur.execute(SQL, (error,))\n    except psycopg.IntegrityError as error:\n"
        "        raise\n"
    )
    assert body_clashes(old) == {"finish": {"error"}}


KEYS = [
    # schema, name: the key a table or type is found by, and its ::regtype spelling
    ("", "users", "users", "users"),
    ("public", "users", "users", "users"),
    ("pg_catalog", "int8", "int8", "int8"),
    ("baz", "users", "baz.users", "baz.users"),
    ("", "TenantMemberRole", "TenantMemberRole", '"TenantMemberRole"'),
    ("geo", "LatLng", "geo.LatLng", 'geo."LatLng"'),
]


@pytest.mark.parametrize(("schema", "name", "key", "regtype"), KEYS)
def test_types_and_tables_are_keyed_by_schema_and_exact_name(
    schema: str, name: str, key: str, regtype: str
) -> None:
    """Issue 18 bugs 1 and 6: keys were the bare lower-cased name, so baz.users met users
    and "TenantMemberRole" met nothing."""
    assert schema_info.qualified(schema, name) == key
    assert schema_info.regtype(key) == regtype


def test_a_query_never_takes_the_name_an_override_module_binds() -> None:
    """``import shop.conv`` binds ``shop`` in the query module, so a query named Shop
    becomes shop_; control: without the override the name is free."""
    override = {
        "db_type": "numeric",
        "python_type": "shop.Money",
        "from_db": "shop.conv.money",
        "to_db": "shop.conv.cents",
    }
    options = parse_options({"package": "pkg", "overrides": [override]})
    assert options.module_names == {"shop"}
    assert naming.identifier("shop", "q", options.module_names) == "shop_"
    assert naming.identifier("shop", "q", parse_options({"package": "pkg"}).module_names) == "shop"
