"""Errors by name: the generated ``errors`` classes on a real server.

The names the plugin derives must be PostgreSQL's own (checked against pg_constraint
and pg_index for schema.sql and the constraint_errors fixture); each violation comes
back as its class, still psycopg's class with PostgreSQL's diagnostics, from every
command kind, sync and async, with savepoints undone; a constraint the schema files
don't declare (made here) comes back as psycopg's plain class.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import psycopg.errors
import pytest
from plue_queries import errors, users
from plue_queries.aio import users as ausers
from psycopg.types.range import Range
from sqlc_gen_psycopg.schema_info import read_schema

from plue_db.servers.scratch import scratch_database
from tests.factories import make_user, unique_name
from tests.paths import GOLDEN, SCHEMA

FIXTURE = GOLDEN / "constraint_errors"
KIND_CODES = {"primary key": "p", "unique": "u", "check": "c", "foreign key": "f", "exclusion": "x"}
CATALOG = """
SELECT c.conrelid::regclass::text, c.conname, c.contype::text
FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
WHERE c.contype IN ('p', 'u', 'c', 'f', 'x') AND r.relnamespace = 'public'::regnamespace
UNION ALL
SELECT i.indrelid::regclass::text, x.relname, 'u'
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
WHERE i.indisunique AND x.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""


def catalog_of(server_url: str, schema: Path) -> set[tuple[str, str, str]]:
    """(table, name, contype) of every constraint and unique index PostgreSQL made."""
    with (
        scratch_database(server_url, prefix="plue_test", schema=schema) as url,
        psycopg.connect(url) as conn,
    ):
        return set(conn.execute(CATALOG).fetchall())


def derived(schema: Path) -> set[tuple[str, str, str]]:
    info = read_schema([schema])
    return {(c.table, c.name, KIND_CODES[c.kind.value]) for c in info.constraints.all}


@pytest.mark.parametrize("schema", [SCHEMA, FIXTURE / "schema.sql"], ids=["plue", "fixture"])
def test_constraint_names_are_postgresqls(server_url: str, schema: Path) -> None:
    """Every name the plugin derives, default ones included, is the name PostgreSQL
    gives; and it misses none."""
    with (
        scratch_database(server_url, prefix="plue_test", schema=schema) as url,
        psycopg.connect(url) as conn,
    ):
        catalog = set(conn.execute(CATALOG).fetchall())
    mine = derived(schema)
    assert len(catalog) > 10
    assert mine == catalog


def test_a_renamed_default_would_be_caught(server_url: str, tmp_path: Path) -> None:
    """Control: a schema whose unnamed constraint PostgreSQL numbers (its default name
    is taken) differs from a naive ``<table>_<column>_check``."""
    schema = tmp_path / "clash.sql"
    schema.write_text(
        "CREATE TABLE t (a int CONSTRAINT t_a_check CHECK (a > 0), CHECK (a < 10));\n"
        "CREATE TABLE u (a int UNIQUE, b int CONSTRAINT u_a_key CHECK (b > 0), CHECK (a > b));\n"
    )
    with (
        scratch_database(server_url, prefix="plue_test", schema=schema) as url,
        psycopg.connect(url) as conn,
    ):
        catalog = set(conn.execute(CATALOG).fetchall())
    assert ("t", "t_a_check1", "c") in catalog
    assert ("u", "u_a_key1", "u") in catalog
    assert derived(schema) == catalog


# -- Plue's own functions ------------------------------------------------------------------


def assert_named(
    error: BaseException, cls: type[Any], base: type[psycopg.errors.IntegrityError]
) -> None:
    """The specific class, psycopg's class, the attributes and PostgreSQL's diagnostics."""
    assert type(error) is cls
    assert isinstance(error, base)
    assert isinstance(cls, type) and issubclass(cls, base)
    named: Any = cls
    base_of_all = cls.__mro__[1]  # the package's ConstraintViolation
    assert base_of_all.__name__ == "ConstraintViolation"
    assert isinstance(error, base_of_all)
    assert isinstance(error, psycopg.errors.Error)
    assert error.diag.constraint_name == named.constraint
    assert error.diag.table_name == named.table
    assert error.sqlstate == base.sqlstate
    assert error.pgresult is not None
    assert type(error.__cause__) is base  # psycopg's original, unchanged
    assert str(error) == str(error.__cause__)


def test_duplicate_username_is_its_unique_index(conn: psycopg.Connection[Any]) -> None:
    user = make_user(conn)
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        make_user(conn, username=user.username.upper())
    assert_named(
        caught.value, errors.UsersUsernameLowerKeyViolation, psycopg.errors.UniqueViolation
    )
    assert errors.UsersUsernameLowerKeyViolation.constraint == "users_username_lower_key"
    assert errors.UsersUsernameLowerKeyViolation.table == "users"


def test_bad_username_is_its_check(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.UsersUsernameFormatViolation) as caught:
        make_user(conn, username="-nope")
    assert_named(caught.value, errors.UsersUsernameFormatViolation, psycopg.errors.CheckViolation)


def test_email_of_missing_user_is_its_foreign_key(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.EmailAddressesUserIDFkeyViolation) as caught:
        users.add_email_address(
            conn, user_id=-1, email=f"{unique_name('x')}@example.com", is_verified=False
        )
    assert_named(
        caught.value, errors.EmailAddressesUserIDFkeyViolation, psycopg.errors.ForeignKeyViolation
    )


def test_async_duplicate_username(database_url: str) -> None:
    async def run() -> BaseException:
        async with await psycopg.AsyncConnection.connect(database_url) as aconn:
            name = unique_name("auser")
            fields: dict[str, Any] = {"display_name": "A", "bio": "", "is_admin": False}
            await ausers.create_user(aconn, username=name, **fields)
            try:
                await ausers.create_user(aconn, username=name.upper(), **fields)
            except psycopg.errors.UniqueViolation as error:
                return error
            finally:
                await aconn.rollback()
        raise AssertionError("no violation")

    error = asyncio.run(run())
    assert_named(error, errors.UsersUsernameLowerKeyViolation, psycopg.errors.UniqueViolation)


def test_docstring_and_manifest_list_the_constraints() -> None:
    doc = users.create_user.__doc__ or ""
    assert "UsersUsernameLowerKeyViolation: unique users_username_lower_key on users" in doc
    manifest = json.loads(Path(users.__file__).with_name("manifest.json").read_text())
    entry = next(f for f in manifest["functions"] if f["name"] == "create_user")
    names = {c["name"] for c in entry["constraints"]}
    assert {"users_username_lower_key", "users_username_format", "users_pkey"} <= names
    reads = next(f for f in manifest["functions"] if f["name"] == "get_user_by_id")
    assert reads["constraints"] == []


# -- the fixture: every kind, every command ---------------------------------------------------


@pytest.fixture(scope="module")
def named() -> Iterator[ModuleType]:
    """The fixture's generated package (named_errors), importable for this module."""
    sys.path.insert(0, str(FIXTURE / "expected"))
    try:
        yield importlib.import_module("named_errors")
    finally:
        sys.path.remove(str(FIXTURE / "expected"))


@pytest.fixture(scope="module")
def fixture_url(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, prefix="plue_test", schema=FIXTURE / "schema.sql") as url:
        yield url


@pytest.fixture
def fconn(fixture_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(fixture_url) as connection:
        yield connection
        connection.rollback()


def test_every_kind_from_its_command(named: ModuleType, fconn: psycopg.Connection[Any]) -> None:
    q = importlib.import_module("named_errors.query")
    e = importlib.import_module("named_errors.errors")
    team = q.create_team(fconn, name=unique_name("team"))
    with fconn.transaction(force_rollback=True), pytest.raises(e.TeamsNameKeyViolation) as one:
        q.create_team(fconn, name=team.name)  # :one, default-named unique
    assert_named(one.value, e.TeamsNameKeyViolation, psycopg.errors.UniqueViolation)
    member = q.add_member(fconn, team_id=team.id, handle="ada", age=30)
    with fconn.transaction(force_rollback=True), pytest.raises(e.MembersTeamIDFkeyViolation) as ex:
        q.delete_team(fconn, id=team.id)  # :exec, ON DELETE RESTRICT of a referenced row
    assert_named(ex.value, e.MembersTeamIDFkeyViolation, psycopg.errors.ForeignKeyViolation)
    with fconn.transaction(force_rollback=True), pytest.raises(e.MembersAgeCheckViolation) as rows:
        q.set_age(fconn, age=12, id=member.id)  # :execrows, a table CHECK of one column
    assert_named(rows.value, e.MembersAgeCheckViolation, psycopg.errors.CheckViolation)
    with fconn.transaction(force_rollback=True), pytest.raises(e.MembersNameNotEmptyViolation):
        q.add_member(fconn, team_id=team.id, handle="", age=30)  # "" fails both: name it
    week = Range(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 8, tzinfo=UTC))
    q.book(fconn, member_id=member.id, during=week)
    with fconn.transaction(force_rollback=True), pytest.raises(e.BookingsDuringExclViolation) as x:
        q.book(fconn, member_id=member.id, during=week)  # exclusion
    assert_named(x.value, e.BookingsDuringExclViolation, psycopg.errors.ExclusionViolation)
    with fconn.transaction(force_rollback=True), pytest.raises(e.TeamsNameKeyViolation):
        other = q.create_team(fconn, name=unique_name("team"))
        q.rename_team_returning(fconn, name=team.name, id=other.id)  # data-modifying WITH


def test_batches_are_undone_and_named(named: ModuleType, fconn: psycopg.Connection[Any]) -> None:
    """:copyfrom and :batch* raise the class after their savepoint is undone: the
    caller's transaction holds its own rows and none of the batch's."""
    q = importlib.import_module("named_errors.query")
    e = importlib.import_module("named_errors.errors")
    team = q.create_team(fconn, name=unique_name("team"))
    q.add_member(fconn, team_id=team.id, handle="kept", age=40)
    calls = [
        (q.copy_members, q.CopyMembersParams, e.MembersHandleLowerKeyViolation),
        (q.add_members, q.AddMembersParams, e.MembersHandleLowerKeyViolation),
        (q.add_members_returning, q.AddMembersReturningParams, e.MembersHandleLowerKeyViolation),
    ]
    for function, params, cls in calls:
        batch = [params(team.id, "fresh", 20), params(team.id, "KEPT", 20)]
        with pytest.raises(cls) as caught:
            function(fconn, batch)
        assert_named(caught.value, cls, psycopg.errors.UniqueViolation)
        handles = fconn.execute("SELECT handle FROM members WHERE team_id = %s", (team.id,))
        assert [h for (h,) in handles] == ["kept"]
    assert fconn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_async_batch_and_exclusion(named: ModuleType, fixture_url: str) -> None:
    aq = importlib.import_module("named_errors.aio.query")
    q = importlib.import_module("named_errors.query")
    e = importlib.import_module("named_errors.errors")

    async def run() -> list[BaseException]:
        caught: list[BaseException] = []
        async with await psycopg.AsyncConnection.connect(fixture_url) as aconn:
            team = await aq.create_team(aconn, name=unique_name("team"))
            rows = [
                q.AddMembersParams(team.id, "twin", 20),
                q.AddMembersParams(team.id, "Twin", 21),
            ]
            for call in (aq.add_members(aconn, rows), aq.copy_members(aconn, rows)):
                try:
                    await call
                except psycopg.IntegrityError as error:
                    caught.append(error)
            member = await aq.add_member(aconn, team_id=team.id, handle="solo", age=20)
            await aconn.execute("SAVEPOINT s")
            try:
                await aq.delete_team(aconn, id=team.id)
            except psycopg.IntegrityError as error:
                caught.append(error)
            await aconn.execute("ROLLBACK TO SAVEPOINT s")
            assert member.team_id == team.id
            await aconn.rollback()
        return caught

    unique, copied, restricted = asyncio.run(run())
    assert_named(unique, e.MembersHandleLowerKeyViolation, psycopg.errors.UniqueViolation)
    assert_named(copied, e.MembersHandleLowerKeyViolation, psycopg.errors.UniqueViolation)
    assert_named(restricted, e.MembersTeamIDFkeyViolation, psycopg.errors.ForeignKeyViolation)


def test_unknown_constraint_stays_psycopgs(
    named: ModuleType, fconn: psycopg.Connection[Any]
) -> None:
    """Negative control: a constraint made here, unknown to the schema files, raises
    psycopg's plain class, untouched (no cause)."""
    q = importlib.import_module("named_errors.query")
    team = q.create_team(fconn, name=unique_name("team"))
    fconn.execute("ALTER TABLE members ADD CONSTRAINT made_in_test CHECK (age <> 99)")
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        q.add_member(fconn, team_id=team.id, handle="old", age=99)
    assert type(caught.value) is psycopg.errors.CheckViolation
    assert caught.value.diag.constraint_name == "made_in_test"
    assert caught.value.__cause__ is None


def test_deferred_constraint_at_commit(named: ModuleType, fixture_url: str) -> None:
    """An INITIALLY DEFERRED foreign key fails at COMMIT, outside generated code: not in
    add_note's docstring, and raise_named names it there."""
    q = importlib.import_module("named_errors.query")
    e = importlib.import_module("named_errors.errors")
    assert "NotesMemberDeferred" not in (q.add_note.__doc__ or "")
    with psycopg.connect(fixture_url) as conn:
        q.add_note(conn, member_id=-5, body="dangling")
        with pytest.raises(e.NotesMemberDeferredViolation):
            try:
                conn.commit()
            except psycopg.IntegrityError as error:
                e.raise_named(error)
                raise


def test_reads_do_not_translate(named: ModuleType) -> None:
    """A read a hot standby can run violates nothing: no handler, nothing listed."""
    q = importlib.import_module("named_errors.query")
    source = Path(str(q.__file__)).read_text()
    body = source.split("def list_teams(")[1].split("\ndef ")[0]
    assert "IntegrityError" not in body
    assert "Raises" not in (q.list_teams.__doc__ or "")
