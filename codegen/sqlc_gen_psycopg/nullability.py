"""The built-in functions and operators a result column may call and still be non-null.

A generated annotation without ``| None`` is a promise, so an expression is non-null
only when every step of it is proven here; every function or operator not listed is
assumed to return NULL. Each entry is a fact PostgreSQL showed us: tests/codegen/test_nullability.py
runs every one at edge-case inputs (empty string and array, zero, negative numbers,
±infinity, long strings) on PostgreSQL 15 and 16, and shows the look-alikes that do
return NULL for non-NULL input (``array_length('{}', 1)``, ``to_char(ts, '')``,
``extract(day FROM 'infinity')``, ``substring(s FROM pattern)``, ...). An error is not a
NULL, so functions that raise on bad input (``sqrt(-1)``) may be listed.
"""

from __future__ import annotations

from pglast import enums

# Never NULL, whatever their inputs (NULL arguments are skipped or counted).
NULL_TOLERANT_FUNCTIONS = frozenset(
    {
        "count", "concat", "num_nulls", "num_nonnulls", "json_build_object",
        "jsonb_build_object", "json_build_array", "jsonb_build_array",
    }
)  # fmt: skip

# NULL only when an argument is NULL (PostgreSQL calls them strict).
STRICT_FUNCTIONS = frozenset(
    {
        # text
        "lower", "upper", "initcap", "length", "char_length", "character_length",
        "octet_length", "bit_length", "btrim", "ltrim", "rtrim", "replace", "translate",
        "left", "right", "lpad", "rpad", "repeat", "reverse", "strpos", "position",
        "starts_with", "split_part", "substring", "overlay", "concat_ws", "md5", "quote_ident",
        "quote_literal", "to_hex", "regexp_replace", "normalize", "string_to_array",
        "array_to_string", "encode",
        "similar_to_escape",  # what ``x SIMILAR TO pattern`` calls on its pattern
        # numbers
        "abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "mod", "div", "power",
        "sqrt", "exp", "ln", "log", "gcd", "lcm", "width_bucket",
        # time
        "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
        "date_trunc", "date_bin", "timezone", "age", "isfinite", "make_interval",
        "justify_days", "justify_hours", "justify_interval",
        # arrays
        "cardinality", "array_append", "array_prepend", "array_cat", "array_remove",
        "array_replace", "array_positions",
        # json
        "to_json", "to_jsonb", "json_typeof", "jsonb_typeof", "jsonb_array_length",
        "jsonb_strip_nulls",
        # other
        "gen_random_uuid", "random", "pg_backend_pid", "current_database", "version",
        # window functions that rank rows (ntile's bucket count is its only argument)
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
    }
)  # fmt: skip

# Functions that are fine called plainly but not as window functions (a frame's sum may
# be NULL): count stays non-null over any window, and the ranking functions only exist
# as window functions.
WINDOW_FUNCTIONS = frozenset(
    {"count", "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile"}
)

# ``substring(s, from_int [, for_int])`` is strict; ``substring(s FROM pattern)`` returns
# NULL when the pattern does not match, so it needs an integer second argument.
INTEGER_TYPES = frozenset({"int2", "int4", "int8"})

# Strict operators that never return NULL for non-NULL operands, whatever the types
# they are applied to. Not here: JSON ``->``/``->>``/``#>``/``#>>`` (missing key) and
# ``= ANY(array)`` (NULL when no element matches and one is NULL). The parser spells
# ``!=`` as ``<>``; sqlc takes a prefix ``@`` for a parameter, so abs is ``abs()``.
STRICT_OPERATORS = frozenset(
    {
        "+", "-", "*", "/", "%", "^", "|/", "&", "|", "#", "<<", ">>",
        "=", "<>", "<", ">", "<=", ">=",
        "||", "~", "~*", "!~", "!~*", "~~", "!~~", "~~*", "!~~*",
        "@>", "<@", "&&", "?",
    }
)  # fmt: skip

# SQL-standard value functions (``current_date``, ``current_user``, ...) are never NULL,
# except ``current_schema``, which is NULL when no schema on the search_path exists.
NULLABLE_SQL_VALUE_FUNCTIONS = frozenset({enums.SQLValueFunctionOp.SVFOP_CURRENT_SCHEMA})
