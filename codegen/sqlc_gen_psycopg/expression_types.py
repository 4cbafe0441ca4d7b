"""PostgreSQL's own rules for the built-in expressions inference.py walks: the type an
aggregate, a function of fixed type, date_trunc, date/time arithmetic or a SQL value
function (``current_date``) returns, and which operators and operator kinds give a boolean, text
or json, or are strict over their operands.

Facts, not guesses: tests/codegen/test_datetime_arithmetic.py asks PostgreSQL each date/time
rule and each SQL value function's type. What may be NULL is nullability.py's.
"""

from __future__ import annotations

from pglast import enums

# Aggregates that return NULL over zero rows (or all-NULL input); count never does.
# Their result type is inferred by inference.py; their nullability needs no list (not
# proven non-null, so nullable).
NULL_ON_EMPTY_AGGREGATES = frozenset(
    {
        "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg",
        "json_object_agg", "jsonb_object_agg", "bool_and", "bool_or", "every", "bit_and",
        "bit_or", "bit_xor", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
        "var_samp", "xmlagg", "percentile_cont", "percentile_disc", "mode", "corr",
        "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "range_agg",
    }
)  # fmt: skip
# Functions whose result type is fixed (PostgreSQL's pg_proc), whatever sqlc guesses.
TIMESTAMPTZ_FUNCTIONS = frozenset(
    {"now", "clock_timestamp", "statement_timestamp", "transaction_timestamp"}
)
NUMERIC_TYPES = ("int2", "int4", "int8", "float4", "float8", "numeric")
# date_trunc(field, source [, zone]): the overload PostgreSQL picks by the source's type
# (a date takes the timestamptz one, its category's preferred type). sqlc's catalog
# picks one without looking, an interval (timedelta) for a timestamp.
DATE_TRUNC_RESULTS = {
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "date": "timestamptz",
    "interval": "interval",
}


def _datetime_operators() -> dict[tuple[str, str, str], str]:
    """(left, operator, right) -> result type of PostgreSQL's date/time arithmetic, as it
    resolves the operator (pg_operator; implicit casts: timestamp to timestamptz, date to
    either, int2 to int4). tests/codegen/test_datetime_arithmetic.py asks PostgreSQL each one."""
    table: dict[tuple[str, str, str], str] = {}

    def both_ways(left: str, op: str, right: str, result: str) -> None:
        table[(left, op, right)] = table[(right, op, left)] = result

    for left in ("timestamptz", "timestamp", "date"):
        for right in ("timestamptz", "timestamp", "date"):
            table[(left, "-", right)] = "interval"
    table[("date", "-", "date")] = "int4"
    for moment in ("timestamptz", "timestamp", "date", "time", "timetz", "interval"):
        result = "timestamp" if moment == "date" else moment
        both_ways(moment, "+", "interval", result)
        table[(moment, "-", "interval")] = result
    for days in ("int2", "int4"):
        both_ways("date", "+", days, "date")
        table[("date", "-", days)] = "date"
    table[("time", "-", "time")] = "interval"
    both_ways("date", "+", "time", "timestamp")
    both_ways("date", "+", "timetz", "timestamptz")
    for number in NUMERIC_TYPES:
        both_ways("interval", "*", number, "interval")
        table[("interval", "/", number)] = "interval"
    return table


DATETIME_OPERATORS = _datetime_operators()
_SVF = enums.SQLValueFunctionOp
# current_date, current_user ... as PostgreSQL types them (sqlc says any): all of them.
SQL_VALUE_FUNCTION_TYPES = {
    _SVF.SVFOP_CURRENT_DATE: "date",
    _SVF.SVFOP_CURRENT_TIME: "timetz",
    _SVF.SVFOP_CURRENT_TIME_N: "timetz",
    _SVF.SVFOP_CURRENT_TIMESTAMP: "timestamptz",
    _SVF.SVFOP_CURRENT_TIMESTAMP_N: "timestamptz",
    _SVF.SVFOP_LOCALTIME: "time",
    _SVF.SVFOP_LOCALTIME_N: "time",
    _SVF.SVFOP_LOCALTIMESTAMP: "timestamp",
    _SVF.SVFOP_LOCALTIMESTAMP_N: "timestamp",
    _SVF.SVFOP_CURRENT_ROLE: "name",
    _SVF.SVFOP_CURRENT_USER: "name",
    _SVF.SVFOP_USER: "name",
    _SVF.SVFOP_SESSION_USER: "name",
    _SVF.SVFOP_CURRENT_CATALOG: "name",
    _SVF.SVFOP_CURRENT_SCHEMA: "name",
}
ARITHMETIC_OPERATORS = frozenset({"+", "-", "*", "/"})
JSON_OPERATORS = frozenset({"->", "->>", "#>", "#>>"})
JSON_TEXT_OPERATORS = frozenset({"->>", "#>>"})
COMPARISON_OPERATORS = frozenset({"=", "<>", "<", ">", "<=", ">=", "~", "~*", "!~", "!~*"})
BOOLEAN_KINDS = frozenset(
    {
        enums.A_Expr_Kind.AEXPR_LIKE, enums.A_Expr_Kind.AEXPR_ILIKE,
        enums.A_Expr_Kind.AEXPR_SIMILAR, enums.A_Expr_Kind.AEXPR_IN,
        enums.A_Expr_Kind.AEXPR_OP_ANY, enums.A_Expr_Kind.AEXPR_OP_ALL,
        enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_NOT_BETWEEN,
        enums.A_Expr_Kind.AEXPR_BETWEEN_SYM, enums.A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM,
        enums.A_Expr_Kind.AEXPR_DISTINCT, enums.A_Expr_Kind.AEXPR_NOT_DISTINCT,
    }
)  # fmt: skip
# Strict over their operands (like a listed operator), whatever operator they name.
STRICT_KINDS = frozenset(
    {
        enums.A_Expr_Kind.AEXPR_LIKE, enums.A_Expr_Kind.AEXPR_ILIKE,
        enums.A_Expr_Kind.AEXPR_SIMILAR, enums.A_Expr_Kind.AEXPR_IN,
        enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_NOT_BETWEEN,
        enums.A_Expr_Kind.AEXPR_BETWEEN_SYM, enums.A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM,
    }
)  # fmt: skip
