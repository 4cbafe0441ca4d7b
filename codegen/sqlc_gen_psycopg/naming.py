"""Turning SQL names into Python names that are valid, unambiguous and stable.

Names follow sqlc's Go generator where it has a rule (an unnamed parameter is
``dollar_1``, an unnamed column ``column_1``, a clash gets ``_2``), adjusted to Python:
words split the way a reader would (``GetBooksByIDs`` -> ``get_books_by_ids``), and a
name Python or the generated code already uses gets a trailing underscore (``from_``,
``list_``). Everything here is a pure function of its input and of fixed word lists,
so the same SQL gives the same names on every Python version.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable

from sqlc_gen_psycopg.errors import GenerationError

# Soft keywords are legal names, but `_`, `case` and `match` read as syntax and have
# always been escaped; `type` is not (the commonest column name of all, and a legal
# field and parameter). Fixed here so a newer Python doesn't change the output.
KEYWORDS = frozenset(keyword.kwlist) | {"_", "case", "match"}
BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# Builtins written in the annotations of dataclass fields: a field of that name earlier
# in the class would hide them from the annotations after it (mypy: not a valid type).
ANNOTATION_BUILTINS = frozenset({"bool", "bytes", "dict", "float", "int", "list", "str", "tuple"})
# Names generated modules bind at module level (imports, helpers, READ_ONLY_FUNCTIONS,
# which plue_db.routing reads): a query function, SQL constant or class of that name
# would hide them (tests/codegen/test_naming.py checks the imports are all listed).
MODULE_NAMES = frozenset(
    {
        "AbstractAsyncContextManager", "AbstractContextManager", "annotations", "aio", "Any",
        "AsyncGenerator", "AsyncIterator", "AsyncServerStream", "astuple", "asynccontextmanager",
        "atomic", "atomic_async", "Awaitable", "ByValue", "Callable", "cast", "Cidr", "ClassVar",
        "completed", "completed_async", "CompositeInfo", "Connection", "contextmanager",
        "dataclass", "datetime", "decimal",
        "COMPOSITE_TYPES", "CompositeType",
        "DiagnosticField", "E", "enums", "errors", "ExecResult", "Final", "Format",
        "Generator", "Generic", "Inet", "ipaddress", "Iterable", "Iterator", "itertools",
        "json", "Json", "JsonInput", "Jsonb", "JsonValue", "LiteralString", "load_enum_array",
        "Mapping", "models", "NamedTuple", "new_async_cursor", "new_cursor", "NoRowError",
        "nullcontext", "pq", "Protocol", "psycopg", "q", "raise_named", "RawCursorMixin",
        "READ_ONLY_FUNCTIONS", "ReadOnlyConnectionError", "register_composite", "rowcount",
        "Sequence", "ServerStream", "sql", "StreamEndedError", "StrEnum",
        "thread_cursor", "threading", "tuple_row", "TupleRow", "TypeAlias", "types", "TypeVar",
        "uuid",
        # the runtime's parameter checks (one meaning per value) and asyncpg's json box
        "aware", "aware_items", "JsonItem", "load_enum_array_no_nulls", "naive",
        "naive_items", "no_null_items", "ParameterValueError", "plain_date", "Self",
        # typed json columns (the runtime's json_shapes) and what that module imports
        "dataclasses", "functools", "json_shape", "json_value", "JsonShapeError", "sys",
        "typing",
        # the package's _asyncpg and what it takes from the runtime's asyncpg_target
        "asyncpg_target", "set_json_codecs", "sqlc_gen_psycopg_runtime",
    }
)  # fmt: skip
# Every name the body of a function with keyword parameters (templates/functions/:
# single statements and ``iter_*`` streams) binds besides its parameters: its cursor,
# the fetched tuple, the decoded row(s), the caught error, asyncpg's command status. A
# parameter of one of these names gets a trailing underscore (``row_``); the newer ones
# are private (``_error``) so that a column named ``error`` keeps its parameter name.
# tests/codegen/test_naming.py checks every generated body binds only these.
LOCAL_NAMES = frozenset({"conn", "batch_size", "cur", "r", "row", "rows", "_error", "_status"})
# An ``iter_*`` twin also binds ``stream`` (only there, so ``stream`` stays a parameter
# name of every other function).
SIGNATURE_NAMES = MODULE_NAMES | LOCAL_NAMES
STREAM_SIGNATURE_NAMES = SIGNATURE_NAMES | {"stream"}
# The generated package's own modules: a query file of one of these names (models.sql)
# gets a trailing underscore (``models_``) instead of replacing it.
PACKAGE_MODULES = frozenset(
    {"aio", "asyncpg", "enums", "errors", "models", "types", "_asyncpg"}
)  # fmt: skip
DEFAULT_INITIALISMS = ("id",)

_PLURAL_INITIALISM = re.compile(r"([A-Z]{2,})s(?![a-z])")  # IDs, URLs, PRs
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENT = re.compile(r"\W+")  # Unicode-aware: letters of any script are kept
_NOT_ALNUM = re.compile(r"[\W_]+")


def snake(name: str) -> str:
    """``GetBooksByIDs`` -> ``get_books_by_ids``; ``HTTPServer`` -> ``http_server``.

    A run of capitals is one word, with the ``s`` of its plural; digits stay with the
    word before them (``ListIssuesV2`` -> ``list_issues_v2``).
    """
    name = _PLURAL_INITIALISM.sub(lambda m: m.group(1) + "S", name)
    return _NOT_IDENT.sub("_", _WORD_BOUNDARY.sub("_", name)).strip("_").lower()


def pascal(name: str, initialisms: Iterable[str] = DEFAULT_INITIALISMS) -> str:
    """``issue_state`` -> ``IssueState``; ``app_id`` -> ``AppID`` (``id`` an initialism).

    Only the first letter of each part changes, so a CamelCase name keeps its capitals
    (``GetUserByID`` stays); a lower-case part listed in ``initialisms`` is all capitals.
    """
    upper = {word.lower() for word in initialisms}
    return "".join(
        part.upper() if part in upper else part[:1].upper() + part[1:]
        for part in _NOT_ALNUM.split(name)
    )


def singular(word: str) -> str:
    """English plural -> singular for table names (``repositories`` -> ``repository``)."""
    rules = (("ies", "y"), ("sses", "ss"), ("uses", "us"), ("ches", "ch"), ("shes", "sh"))
    for suffix, replacement in rules:
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    if word.endswith(("ss", "us", "is")) or not word.endswith("s"):
        return word
    return word[:-1]


def model_name(table: str, initialisms: Iterable[str] = DEFAULT_INITIALISMS) -> str:
    """A table's class name: its last word singular, in PascalCase (``app_ids`` -> ``AppID``)."""
    parts = table.split("_")
    return pascal("_".join([*parts[:-1], singular(parts[-1])]), initialisms)


def python_name(name: str) -> str:
    """The Python spelling of a SQL name, or "" when nothing usable is left.

    Identifiers are kept as they are (NFKC-normalised, as Python reads them); anything
    else becomes lower-case words joined by ``_``. A leading digit gets ``_``; leading
    double underscores shrink to one, since Python mangles ``__x`` inside a class.
    """
    name = unicodedata.normalize("NFKC", name)
    ident = name if name.isidentifier() else _NOT_IDENT.sub("_", name).strip("_").lower()
    if ident[:1].isdigit():
        ident = f"_{ident}"
    if ident.startswith("__") and ident.strip("_"):
        ident = "_" + ident.lstrip("_")
    return ident if ident.isidentifier() else ""


def escape(name: str, reserved: frozenset[str] = frozenset()) -> str:
    """``name`` with trailing underscores until it is neither a keyword nor reserved."""
    while name in KEYWORDS or name in reserved:
        name += "_"
    return name


def identifier(name: str, what: str, reserved: frozenset[str] = frozenset()) -> str:
    """A Python name for a SQL name that must have one (``what`` names it in the error)."""
    ident = python_name(name)
    if not ident:
        raise GenerationError(f"{what}: cannot make a Python name from {name!r}; alias it")
    return escape(ident, reserved)


def constant(name: str) -> str:
    """``GetUser`` -> ``GET_USER``, escaped where it would hide a module-level name
    (a query ``ReadOnlyFunctions`` gets ``READ_ONLY_FUNCTIONS_``)."""
    return escape(snake(name).upper(), MODULE_NAMES)


def enum_member(value: str) -> str:
    """The member name of an enum value: its words in capitals (``in progress`` ->
    ``IN_PROGRESS``), ``V_`` before a digit (``1st`` -> ``V_1ST``), and a value with no
    letter or digit spelt out by its characters' Unicode names (``#`` -> ``NUMBER_SIGN``,
    ``''`` -> ``EMPTY``). Distinct values may still meet (``a-b``, ``a b``): see ``Scope``.
    """
    value = unicodedata.normalize("NFKC", value)
    member = _NOT_IDENT.sub("_", value).strip("_").upper()
    if not member and value:
        spelt = "_".join(unicodedata.name(ch, f"U{ord(ch):04X}") for ch in value)
        member = _NOT_ALNUM.sub("_", spelt).strip("_")
    member = member or "EMPTY"
    return f"V_{member}" if member[0].isdigit() else member


def fallback_parameter(number: int) -> str:
    """sqlc's name for a parameter it can't name after a column: ``$3`` -> ``dollar_3``."""
    return f"dollar_{number}"


def fallback_column(position: int) -> str:
    """sqlc's name for a result column without one (``SELECT 1``), counted from 1."""
    return f"column_{position}"


class Scope:
    """One Python namespace being filled (a module, a class, a signature).

    ``claim`` hands out the wanted name or, when something already holds it, the first
    free numbered one (``id``, ``id_2``; ``Pet``, ``Pet2`` with an empty separator), as
    sqlc's Go generator numbers clashing fields. ``holder`` says who holds a name, so a
    caller in strict mode can refuse the clash with a message naming both. ``reserved``
    names are held from the start (a class ``Exception`` would hide the builtin, so a
    table ``exceptions`` gets ``Exception2``, which stays CapWords).
    """

    def __init__(self, separator: str = "_", reserved: frozenset[str] = frozenset()) -> None:
        self._holders: dict[str, str] = {name: f"the Python name {name}" for name in reserved}
        self._separator = separator

    def holder(self, name: str) -> str | None:
        return self._holders.get(name)

    def claim(self, wanted: str, holder: str) -> str:
        name, number = wanted, 1
        while name in self._holders:
            number += 1
            name = f"{wanted}{self._separator}{number}"
        self._holders[name] = holder
        return name
