"""The extras ``sqlc-gen-psycopg-db`` needs, checked before anything runs, so a missing
one is one line naming what to install, not a traceback."""

from __future__ import annotations

import importlib.util

# The modules each extra of sqlc-gen-psycopg provides (codegen/pyproject.toml).
PROVIDES: dict[str, tuple[str, ...]] = {
    "analysis": ("sqlc", "psycopg"),
    "embedded": ("pgserver",),
}


class MissingExtraError(RuntimeError):
    """An optional part of sqlc-gen-psycopg is not installed; the message names the extra."""


def require(extra: str, purpose: str) -> None:
    """Raise MissingExtraError naming the first module of ``extra`` that is missing."""
    for module in PROVIDES[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(
                f"{purpose} needs {module}, which is not installed: "
                f"pip install 'sqlc-gen-psycopg[{extra}]'"
            )
