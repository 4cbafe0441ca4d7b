"""Warnings: what generation went on with, each one line naming file:line, the query and
the column or parameter, and saying how to remove it.

sqlc 1.31.1 shows a process plugin's stderr only when the plugin fails: on success it
drops it. So warnings are written to stderr (seen when the plugin runs outside sqlc)
and kept in the package's manifest.json (``warnings``), where tools read them.
"""

from __future__ import annotations

from pglast import ast

from sqlc_gen_psycopg import places
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.places import Places, Site
from sqlc_gen_psycopg.protocol import Query


class Notices:
    """The warnings of one generation.

    ``strict_types`` makes a value sqlc can't type an error; ``static`` (sqlc guessed the
    types, no database) adds a warning per result column typed by a guess.
    """

    def __init__(self, sites: Places, *, strict_types: bool, static: bool) -> None:
        self.sites = sites
        self.strict_types = strict_types
        self.static = static
        self.lines: list[str] = []

    def untyped_param(self, query: Query, number: int, name: str, *, named: bool) -> None:
        """Parameter ``$number`` has sqlc's type ``any``: annotated ``object``, or refused."""
        offset = places.param_offset(query.text, number)
        site = self.sites.site(query.filename, query.name, query.text, offset, f"parameter {name}")
        self.untyped(site, f"`sqlc.arg({name})::<type>`" if named else f"`${number}::<type>`")

    def column(self, query: Query, index: int, name: str, sqlc_type: str, *, untyped: bool) -> None:
        """Result column ``index``: refused or warned about when sqlc typed it ``any``; in
        static mode, warned about when its type is sqlc's guess: a column of no table
        whose expression isn't cast. Callers pass only columns sqlc typed and the plugin's
        own inference (inference.py) can't confirm."""
        target = places.target(query.text, index)
        if not untyped and not self.static:
            return
        if not untyped and target is not None and isinstance(target.val, ast.TypeCast):
            return
        offset = target.location if target is not None else None
        site = self.sites.site(query.filename, query.name, query.text, offset, f"column {name}")
        expression = places.sql_of(target.val) if target is not None else "..."
        cast = f"`{expression}::<type> AS {name}`"
        if untyped:
            self.untyped(site, cast)
        else:
            self.lines.append(
                site.line(
                    f"{sqlc_type} is sqlc's static guess for this expression; cast it: {cast}, "
                    f"or generate with the database-backed analysis"
                )
            )

    def untyped(self, site: Site, cast: str) -> None:
        if self.strict_types:
            raise GenerationError(
                site.line(
                    f"sqlc can't infer its type (any); cast it: {cast} (with strict_types "
                    f"off this is a warning and the value is annotated object)"
                )
            )
        message = f"sqlc can't infer its type (any), so it is annotated object; cast it: {cast}"
        self.lines.append(site.line(message))

    def left_out(self, filename: str, query: str, what: str, reason: str) -> None:
        """A function one target can't carry, left out of that target only."""
        self.lines.append(self.sites.site(filename, query, "", None, what).line(reason))
