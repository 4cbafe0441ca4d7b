"""Read-only or write: which server a query may run on, decided from its SQL (pglast).

A query is read-only when a hot standby can run it: one SELECT (or VALUES) with no
locking clause (FOR UPDATE/SHARE), no SELECT INTO, no data-modifying WITH, and no call
to a function that may have side effects. Anything else is a write. When in doubt it
is a write: a wrongly read-only query fails on a replica in production, a wrongly
"write" one merely runs on the primary.

Functions count as safe when they are on the curated list of side-effect-free
built-ins below (tests check every entry's volatility in pg_proc), or user functions
the schema declares STABLE or IMMUTABLE (PostgreSQL refuses INSERT/UPDATE/DELETE inside
those; every overload of the name must be). Volatile built-ins such as ``nextval``,
``setval``, ``pg_advisory_lock``, ``pg_notify`` or ``set_config`` are not listed, nor is
any function this module does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.visitors import Visitor

# Side-effect-free built-ins, by name; every pg_catalog overload is STABLE or IMMUTABLE
# except the few in VOLATILE_BUT_HARMLESS (they read a clock or a random source).
VOLATILE_BUT_HARMLESS = frozenset({"random", "clock_timestamp", "gen_random_uuid", "timeofday"})
READ_ONLY_BUILTINS = VOLATILE_BUT_HARMLESS | frozenset(
    {
        # aggregates and window functions
        "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_or", "bool_and",
        "every", "jsonb_agg", "json_agg", "jsonb_object_agg", "json_object_agg", "row_number",
        "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
        "first_value", "last_value", "nth_value", "percentile_cont", "percentile_disc",
        # text
        "lower", "upper", "btrim", "ltrim", "rtrim", "replace", "length", "char_length",
        "octet_length", "substr", "left", "right", "strpos", "split_part", "starts_with",
        "concat", "concat_ws", "format", "md5", "encode", "decode", "regexp_replace",
        "regexp_match", "regexp_matches", "string_to_array", "array_to_string", "to_char",
        "initcap", "lpad", "rpad", "repeat", "reverse", "translate", "sha256",
        # arrays and sets
        "array_position", "array_positions", "array_length", "array_upper", "array_lower",
        "cardinality", "unnest", "array_remove", "array_append", "array_prepend",
        "array_cat", "generate_series", "generate_subscripts",
        # time
        "now", "transaction_timestamp", "statement_timestamp", "date_bin", "date_trunc",
        "date_part", "extract", "age", "make_interval", "make_date", "make_timestamptz",
        "to_timestamp", "to_date", "substring", "position", "overlay", "timezone",
        "justify_interval", "isfinite",
        # numbers
        "abs", "round", "trunc", "ceil", "ceiling", "floor", "sign", "mod", "power",
        "sqrt", "ln", "log", "exp", "width_bucket",
        # json
        "to_jsonb", "to_json", "jsonb_build_object", "jsonb_build_array",
        "json_build_object", "json_build_array", "jsonb_array_length", "jsonb_typeof",
        "jsonb_extract_path", "jsonb_extract_path_text", "jsonb_array_elements",
        "jsonb_array_elements_text", "jsonb_each", "jsonb_each_text", "jsonb_object_keys",
        "jsonb_strip_nulls", "jsonb_set", "jsonb_insert", "jsonb_path_exists",
        "jsonb_path_query_first",
        # replication positions (what read-your-writes reads)
        "pg_last_wal_replay_lsn", "pg_last_wal_receive_lsn", "pg_is_in_recovery",
    }
)  # fmt: skip

LOCKING = {
    "LCS_FORKEYSHARE": "FOR KEY SHARE",
    "LCS_FORSHARE": "FOR SHARE",
    "LCS_FORNOKEYUPDATE": "FOR NO KEY UPDATE",
    "LCS_FORUPDATE": "FOR UPDATE",
}
SAFE_VOLATILITIES = frozenset({"stable", "immutable"})


@dataclass(frozen=True, slots=True)
class Access:
    """``read_only`` and, for a write, why (shown in the manifest: a reviewer sees it)."""

    read_only: bool
    reason: str = ""


READ_ONLY = Access(True)
UNCLASSIFIED = Access(False, "not classified")  # the model's default; never generated


def classify(sql: str, user_functions: dict[str, frozenset[str]]) -> Access:
    """Whether ``sql`` (one statement, ``$n`` placeholders) can run on a hot standby.

    ``user_functions`` maps each function the schema creates to the volatilities of
    its overloads (``{"user_may_sign_in": {"stable"}}``).
    """
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return Access(False, "pglast cannot parse it")
    if len(statements) != 1:
        return Access(False, f"{len(statements)} statements")
    stmt = statements[0].stmt
    if not isinstance(stmt, ast.SelectStmt):
        return Access(False, _kind(stmt))
    finder = _WriteFinder(user_functions)
    finder(stmt)
    return Access(False, finder.reasons[0]) if finder.reasons else READ_ONLY


def _kind(stmt: Any) -> str:
    """``InsertStmt`` -> ``INSERT``; utility statements keep their node name."""
    name = type(stmt).__name__
    return name.removesuffix("Stmt").upper() if name.endswith("Stmt") else name


class _WriteFinder(Visitor):  # type: ignore[misc]
    """Collects, in tree order, every reason the statement is not read-only."""

    def __init__(self, user_functions: dict[str, frozenset[str]]) -> None:
        super().__init__()
        self.user_functions = user_functions
        self.reasons: list[str] = []

    def visit_SelectStmt(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        if node.lockingClause:
            strengths = {LOCKING[clause.strength.name] for clause in node.lockingClause}
            self.reasons.append(f"a locking clause ({', '.join(sorted(strengths))})")
        if node.intoClause is not None:
            self.reasons.append("SELECT INTO creates a table")

    def visit_CommonTableExpr(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        if not isinstance(node.ctequery, ast.SelectStmt):
            self.reasons.append(f"a data-modifying WITH ({_kind(node.ctequery)})")

    def visit_FuncCall(self, ancestors: Any, node: Any) -> None:  # noqa: N802 - pglast's name
        reason = function_reason([n.sval for n in node.funcname], self.user_functions)
        if reason:
            self.reasons.append(reason)


def function_reason(names: Iterable[str], user_functions: dict[str, frozenset[str]]) -> str:
    """Why a call of the function so named makes a query a write, or "" if it is safe."""
    *schema, name = [n.lower() for n in names]
    if schema == ["pg_catalog"] or (not schema and name not in user_functions):
        return "" if name in READ_ONLY_BUILTINS else f"calls {name}(), not known to be read-only"
    volatilities = user_functions.get(name)
    if volatilities is None:
        return f"calls {'.'.join([*schema, name])}(), which the schema does not define"
    if volatilities <= SAFE_VOLATILITIES:
        return ""
    return f"calls {name}(), which is VOLATILE in the schema"
