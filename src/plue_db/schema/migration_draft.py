"""``plue-db migration new NAME``: write the next migration, drafted from schema.sql.

The difference is the drift check's (plue_db.schema.catalog): migrations/ applied to one scratch
database, schema.sql to another, their catalogs compared object by object. What can be
added without locking out traffic or losing data is drafted from the schema.sql side's
catalog, in PostgreSQL's own renderings (format_type via the column entries,
pg_get_constraintdef, pg_get_indexdef, pg_get_functiondef, pg_get_triggerdef, regclass and
quote_ident for names, literals through psycopg.sql): new enum types and values, tables,
nullable or defaulted columns, functions, constraints (NOT VALID then VALIDATE on an
existing table), indexes (CONCURRENTLY on an existing table), triggers and comments.

The draft is then applied on top of the migrated scratch database and the catalogs are
compared again: whatever still differs (drops, renames, type changes, a NOT NULL column
without a default, ...) is listed in the file as left to write by hand, so the list is
exact rather than a guess about what the drafting covers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from plue_db import config
from plue_db.schema import catalog
from plue_db.schema.catalog import key as _key
from plue_db.schema.migrate import FILE_NAME, MigrationError, discover, migrate
from plue_db.schema.migration_parse import NO_TRANSACTION
from plue_db.servers.scratch import scratch_database

# What every drafted file starts with: squawk's require-lock-timeout, and what it guards
# against (an ALTER queued behind a long query blocks every query behind it).
LOCK_TIMEOUT = "SET lock_timeout = '5s';"

# Each query yields the schema and name of an object as catalog.snapshot keys it, on
# the schema.sql side, then what drafting it needs; ``_key`` makes the snapshot key.
# Tables are named with their schema, as pg_get_indexdef names them, so squawk sees
# that an index or constraint is on a table created earlier in the same file.
_ENUMS = """
SELECT n.nspname, t.typname, format_type(t.oid, NULL),
       array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
GROUP BY n.nspname, t.oid, t.typname"""

_TABLES = """
SELECT n.nspname, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       array_agg(a.attname ORDER BY a.attnum), array_agg(quote_ident(a.attname) ORDER BY a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r' AND NOT c.relispartition
GROUP BY n.nspname, c.oid, c.relname"""

# A column is drafted unless it would need a backfill (NOT NULL, no default) or a
# rewrite of the table (identity, generated).
_COLUMNS = """
SELECT n.nspname, c.relname, a.attname,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname),
       (a.attnotnull AND NOT a.atthasdef) OR a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r'"""

_FUNCTIONS = """
SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, pg_get_functiondef(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p')"""

# Primary keys and unique constraints first: foreign keys need them.
_CONSTRAINTS = """
SELECT n.nspname, c.relname, con.conname,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(con.conname),
       pg_get_constraintdef(con.oid), con.contype::text, con.convalidated
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = con.connamespace
ORDER BY array_position(array['p', 'u', 'x', 'c', 'f'], con.contype::text), con.conname"""

# Indexes a constraint does not own (those come with their constraint).
_INDEXES = """
SELECT n.nspname, i.relname, c.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = i.oid
                  AND con.contype IN ('p', 'u', 'x'))"""

_TRIGGERS = """
SELECT n.nspname, c.relname || '.' || tg.tgname, pg_get_triggerdef(tg.oid)
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT tg.tgisinternal"""

# COMMENT ON's object, for the kinds of object drafted above; NULL for others.
_COMMENTS = """
SELECT o.schema, pg_describe_object(d.classoid, d.objoid, d.objsubid),
       CASE d.classoid
         WHEN 'pg_class'::regclass THEN
           CASE WHEN d.objsubid > 0
                THEN 'COLUMN ' || d.objoid::regclass::text || '.' || quote_ident(
                    (SELECT attname FROM pg_attribute
                     WHERE attrelid = d.objoid AND attnum = d.objsubid))
                ELSE (SELECT CASE relkind WHEN 'r' THEN 'TABLE ' WHEN 'p' THEN 'TABLE '
                        WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW '
                        WHEN 'i' THEN 'INDEX ' WHEN 'S' THEN 'SEQUENCE ' END
                      FROM pg_class WHERE oid = d.objoid) || d.objoid::regclass::text END
         WHEN 'pg_type'::regclass THEN 'TYPE ' || format_type(d.objoid, NULL)
         WHEN 'pg_proc'::regclass THEN
           (SELECT CASE prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END
            FROM pg_proc WHERE oid = d.objoid) || d.objoid::regprocedure::text
         WHEN 'pg_constraint'::regclass THEN
           (SELECT 'CONSTRAINT ' || quote_ident(conname) || ' ON ' || conrelid::regclass::text
            FROM pg_constraint WHERE oid = d.objoid AND conrelid <> 0)
       END,
       d.description
FROM pg_description d
CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, 0) o"""


@dataclass(frozen=True, slots=True)
class Draft:
    statements: tuple[str, ...]  # the migration, run in one transaction
    # What must not run inside that transaction (CREATE INDEX CONCURRENTLY on an existing
    # table; VALIDATE CONSTRAINT, so the scan does not hold the ADD's lock): a second,
    # no-transaction file, each statement committed on its own (docs/migrations.md).
    concurrently: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Written:
    paths: tuple[Path, ...]
    drafted: int | None  # statements drafted; None: not drafted (an empty migration)
    by_hand: tuple[str, ...]  # differences left, one line each
    failure: str | None  # why the draft did not apply, if it did not


def next_path(name: str, directory: Path = config.MIGRATIONS_DIR) -> Path:
    """``directory/NNNN_name.sql`` numbered after the last migration; MigrationError
    names the fault for a name migrate would refuse or a number past 9999."""
    path = directory / f"0000_{name}.sql"
    if FILE_NAME.fullmatch(path.name) is None:
        raise MigrationError(
            f"migration name {name!r}: use lower-case ASCII letters, digits and underscores, "
            "starting with a letter or digit (like add_topics)"
        )
    numbers = [int(m.name[:4]) for m in discover(directory)]
    number = max(numbers, default=0) + 1
    if number > 9999:
        raise MigrationError(f"{directory} already holds migration 9999; no number is left")
    return directory / f"{number:04d}_{name}.sql"


def draft(want: psycopg.Connection[Any], have: psycopg.Connection[Any]) -> Draft:
    """The DDL that takes the database at ``have`` towards the one at ``want``, for the
    differences that can be drafted safely; the rest is left out."""
    wanted, present = catalog.snapshot(want), catalog.snapshot(have)
    missing = {key for key in wanted if key not in present}
    changed = {key for key in wanted if key in present and wanted[key] != present[key]}
    steps = Steps(want, missing)
    steps.enums(changed, have)
    steps.tables(wanted)
    steps.columns(wanted)
    steps.functions(changed)
    steps.constraints()
    steps.indexes()
    steps.triggers()
    steps.comments(changed)
    return Draft(tuple(steps.out), tuple(steps.concurrently))


class Steps:
    """The drafted statements, in an order that can run: types, tables, columns,
    functions, constraints (keys before foreign keys), indexes, triggers, comments."""

    def __init__(self, want: psycopg.Connection[Any], missing: set[str]) -> None:
        self.want, self.missing = want, missing
        self.out: list[str] = []
        self.concurrently: list[str] = []

    def add(self, statement: sql.Composable | str, *, alone: bool = False) -> None:
        """Append a statement to the migration, or with ``alone`` to the second file."""
        text = statement if isinstance(statement, str) else statement.as_string(self.want)
        (self.concurrently if alone else self.out).append(text.rstrip().rstrip(";") + ";")

    def enums(self, changed: set[str], have: psycopg.Connection[Any]) -> None:
        old = {
            _key("enum", schema, name): labels for schema, name, _, labels in have.execute(_ENUMS)
        }
        for schema, type_name, name, labels in self.want.execute(_ENUMS):
            key = _key("enum", schema, type_name)
            if key in self.missing:
                values = sql.SQL(", ").join(map(sql.Literal, labels))
                self.add(sql.SQL("CREATE TYPE {} AS ENUM ({})").format(sql.SQL(name), values))
            elif key in changed:
                self._enum_values(sql.SQL(name), old[key], labels)

    def _enum_values(self, name: sql.Composable, old: list[str], new: list[str]) -> None:
        """ADD VALUE for each new label, placed by its neighbour, if the old labels are
        all kept in the same order (anything else is left by hand)."""
        if [label for label in new if label in old] != old:
            return
        for index, label in enumerate(new):
            if label in old:
                continue
            place, other = ("AFTER", new[index - 1]) if index else ("BEFORE", old[0])
            self.add(
                sql.SQL("ALTER TYPE {} ADD VALUE {} {} {}").format(
                    name, sql.Literal(label), sql.SQL(place), sql.Literal(other)
                )
            )

    def tables(self, wanted: dict[str, str]) -> None:
        for schema, relation, table, column_names, quoted in self.want.execute(_TABLES):
            if _key("table", schema, relation) not in self.missing:
                continue
            keys = [_key("column", schema, f"{relation}.{c}") for c in column_names]
            columns = [f"    {q} {wanted[k]}" for q, k in zip(quoted, keys, strict=True)]
            self.add(f"CREATE TABLE {table} (\n" + ",\n".join(columns) + "\n)")
            self.missing.difference_update(keys)

    def columns(self, wanted: dict[str, str]) -> None:
        for schema, relation, column, table, name, unsafe in self.want.execute(_COLUMNS):
            key = _key("column", schema, f"{relation}.{column}")
            if (
                key in self.missing
                and not unsafe
                and _key("table", schema, relation) not in self.missing
            ):
                self.add(f"ALTER TABLE {table} ADD COLUMN {name} {wanted[key]}")

    def functions(self, changed: set[str]) -> None:
        for schema, name, kind, definition in self.want.execute(_FUNCTIONS):
            key = _key(kind, schema, name)
            if key in self.missing or key in changed:
                self.add(definition)  # CREATE OR REPLACE

    def constraints(self) -> None:
        rows = self.want.execute(_CONSTRAINTS)
        for schema, relation, con, table, name, definition, kind, validated in rows:
            if _key("constraint", schema, f"{relation}.{con}") not in self.missing:
                continue
            add = f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
            if _key("table", schema, relation) in self.missing or not validated:
                self.add(add)
            elif kind in ("c", "f"):
                self.add(add + " NOT VALID")
                self.add(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", alone=True)
            # a key or exclusion on an existing table: build its index CONCURRENTLY
            # and ADD ... USING INDEX, by hand

    def indexes(self) -> None:
        for schema, index, relation, definition in self.want.execute(_INDEXES):
            if _key("index", schema, index) not in self.missing:
                continue
            if _key("table", schema, relation) in self.missing:
                self.add(definition)
            else:
                self.add(definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1), alone=True)

    def triggers(self) -> None:
        for schema, name, definition in self.want.execute(_TRIGGERS):
            if _key("trigger", schema, name) in self.missing:
                self.add(definition)

    def comments(self, changed: set[str]) -> None:
        for schema, described, target, text in self.want.execute(_COMMENTS):
            key = _key("comment on", schema, described)
            if target is not None and (key in self.missing or key in changed):
                self.add(sql.SQL("COMMENT ON {} IS {}").format(sql.SQL(target), sql.Literal(text)))


DRAFTED = (
    "Drafted by `plue-db migration new` from how schema.sql differs from migrations/:",
    "review it before committing.",
)
ALONE = (
    "What must not hold the previous migration's locks or run in a transaction:",
    "each statement is committed on its own (docs/migrations.md).",
)


def render(name: str, statements: Sequence[str], notes: Sequence[str], alone: bool) -> str:
    """A migration file: the no-transaction marker if ``alone``, its name and notes as
    comments, then the statements after a lock timeout."""
    lines = [NO_TRANSACTION] if alone else []
    lines += [f"-- {name}", *(f"-- {note}" for note in notes)]
    text = "\n".join(lines) + "\n"
    if statements:
        text += "\n" + LOCK_TIMEOUT + "\n\n" + "\n\n".join(statements) + "\n"
    return text


def files(
    path: Path, found: Draft, by_hand: Sequence[str] = (), failure: str | None = None
) -> list[tuple[Path, str]]:
    """The drafted migration at ``path`` (what is left noted at its top), and the
    no-transaction one numbered after it if anything must run alone."""
    notes = list(DRAFTED)
    if failure:
        notes.append("This draft did not apply to the migrated database; fix it first:")
        notes += [f"  {line}" for line in failure.splitlines()]
    if by_hand:
        notes.append("Left to write by hand (`plue-db check` lists these until done):")
        notes += [f"  {line}" for line in by_hand]
    written = [(path, render(path.stem, found.statements, notes, alone=False))]
    if found.concurrently:
        number, name = int(path.name[:4]) + 1, path.stem[5:]
        second = path.with_name(f"{number:04d}_{name}_concurrently.sql")
        written.append((second, render(second.stem, found.concurrently, ALONE, alone=True)))
    return written


def new_migration(
    name: str,
    server_url: str | None,
    directory: Path = config.MIGRATIONS_DIR,
    schema: Path = config.SCHEMA_PATH,
) -> Written:
    """Write the next migration named ``name``, drafted on scratch databases of the
    server at ``server_url``; only a header without one."""
    path = next_path(name, directory)
    if server_url is None:
        path.write_text(render(path.stem, (), ("Write the migration here.",), alone=False))
        return Written((path,), None, (), None)
    with (
        scratch_database(server_url, schema=schema) as from_schema,
        scratch_database(server_url) as migrated,
    ):
        migrate(migrated, directory)
        with psycopg.connect(from_schema) as want, psycopg.connect(migrated) as have:
            found = draft(want, have)
        by_hand: list[str] = []
        failure = _apply(files(path, found), migrated, directory)
        if failure is None:
            with psycopg.connect(from_schema) as want, psycopg.connect(migrated) as have:
                pairs = catalog.differences(catalog.snapshot(want), catalog.snapshot(have))
            by_hand = [_one_line(key, a, b) for key, a, b in pairs]
    written = files(path, found, by_hand, failure)
    for each, text in written:
        each.write_text(text)
    drafted = len(found.statements) + len(found.concurrently)
    return Written(tuple(p for p, _ in written), drafted, tuple(by_hand), failure)


def summary(written: Written) -> str:
    """The command's one line: what was written and what is left."""
    what = "wrote " + " and ".join(map(str, written.paths))
    if written.drafted is None:
        return f"{what}: empty, for you to write"
    if written.failure:
        return f"{what}: the draft fails to apply (why is at the top of the file); fix it"
    left = len(written.by_hand)
    if not written.drafted and not left:
        return f"{what}: migrations/ already match schema.sql, nothing to draft"
    differences = "difference" if left == 1 else "differences"
    listed = " (listed in the file)" if left else ""
    return (
        f"{what}: {written.drafted} statements drafted, {left} {differences} left by hand{listed}"
    )


def _apply(drafted: list[tuple[Path, str]], url: str, directory: Path) -> str | None:
    """Run the drafted files as the next migrations (in a copy of ``directory``) on
    ``url``; why it failed, or None."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / directory.name
        shutil.copytree(directory, copy)
        for path, text in drafted:
            (copy / path.name).write_text(text)
        try:
            migrate(url, copy)
        except (MigrationError, psycopg.Error) as exc:
            return str(exc).replace(str(copy), str(directory))
    return None


REQUIRED_COLUMN = "NOT NULL without a default: add it nullable, backfill, then SET NOT NULL"


def _one_line(key: str, wanted: str | None, present: str | None) -> str:
    """One difference left by hand (catalog.differences: None = absent)."""
    if wanted is None:
        return f"{key}: only in migrations (drop it, or add it to schema.sql)"
    if present is None:
        required = " NOT NULL" in wanted and " DEFAULT " not in wanted
        if key.startswith("column ") and required:
            return f"{key}: only in schema.sql ({REQUIRED_COLUMN})"
        return f"{key}: only in schema.sql"
    if "\n" in wanted or "\n" in present:
        return f"{key}: differs"
    return f"{key}: {present} -> {wanted}"
