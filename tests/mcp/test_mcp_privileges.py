"""Least privilege for every tool that reads with elevated rights: try to read secrets.

The scratch database holds real secrets: a SCRAM and an md5 password, a user mapping
and a subscription with passwords, and another session whose query text carries a
marker. The MCP reader (all layers, and the server-side layers alone) must see none of
them, yet read tables created after it. NEGATIVE CONTROL: a login with the grants of
older versions (pg_read_all_data, pg_read_all_stats) runs the same reads and must leak
every one, which proves the checks can see a leak.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from plue_db.mcp import reader_role, readonly, stats
from plue_db.mcp.readonly import Limits, QueryError, QueryResult

Run = Callable[[str], QueryResult]
LIMITS = Limits(statement_timeout_ms=3000)


@pytest.fixture(scope="module")
def reader_limits() -> Limits:
    return LIMITS


# Each read that would expose a secret, by what it exposes.
SECRET_READS = {
    "pg_authid": "SELECT rolname, rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL",
    "pg_shadow": "SELECT usename, passwd FROM pg_shadow",
    "pg_user_mapping": "SELECT umoptions FROM pg_user_mapping",
    "pg_user_mappings": "SELECT umoptions FROM pg_user_mappings",
    "pg_subscription": "SELECT subname, subconninfo FROM pg_subscription",
    "pg_stat_activity": "SELECT query FROM pg_stat_activity WHERE datname = current_database()",
    "pg_stat_get_activity": "SELECT a.query FROM pg_stat_get_activity(NULL) a"
    " JOIN pg_database d ON d.oid = a.datid WHERE d.datname = current_database()",
}


@dataclass
class Secrets:
    """What the scratch database hides, and the exact text a leak would show."""

    scram: str
    md5: str
    mapping_password: str
    subscription_password: str
    query_marker: str

    def found_in(self, result: QueryResult) -> list[str]:
        text = json.dumps(result.rows)
        return [name for name, value in vars(self).items() if value in text]


@pytest.fixture(scope="module")
def secrets(scratch_url: str) -> Iterator[Secrets]:
    """Roles with SCRAM and md5 passwords, a user mapping and a subscription with
    passwords, and an idle session whose last query carries a marker."""
    tag = uuid.uuid4().hex[:8]
    scram_role, md5_role = f"plue_scram_{tag}", f"plue_md5_{tag}"
    fdw, server, sub = f"plue_fdw_{tag}", f"plue_srv_{tag}", f"plue_sub_{tag}"
    mapping_password, subscription_password = f"map-{tag}", f"sub-{tag}"
    marker = f"plue-secret-query-{tag}"
    with (
        psycopg.connect(scratch_url, autocommit=True) as admin,
        psycopg.connect(scratch_url, autocommit=True) as other_session,
    ):
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'scram-pw'").format(sql.Identifier(scram_role))
        )
        admin.execute("SET password_encryption = 'md5'")
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'md5-pw'").format(sql.Identifier(md5_role))
        )
        admin.execute("RESET password_encryption")
        hashes: dict[str, str] = dict(
            admin.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s)",
                ([scram_role, md5_role],),
            ).fetchall()
        )
        assert hashes[scram_role].startswith("SCRAM-SHA-256$")
        assert hashes[md5_role].startswith("md5")
        admin.execute(sql.SQL("CREATE FOREIGN DATA WRAPPER {}").format(sql.Identifier(fdw)))
        admin.execute(
            sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER {}").format(
                sql.Identifier(server), sql.Identifier(fdw)
            )
        )
        admin.execute(
            sql.SQL("CREATE USER MAPPING FOR {} SERVER {} OPTIONS (password {})").format(
                sql.Identifier(scram_role), sql.Identifier(server), sql.Literal(mapping_password)
            )
        )
        admin.execute(
            sql.SQL(
                "CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION p"
                " WITH (connect = false, slot_name = NONE, enabled = false)"
            ).format(
                sql.Identifier(sub),
                sql.Literal(f"host=127.0.0.1 dbname=nowhere password={subscription_password}"),
            )
        )
        other_session.execute(sql.SQL("SELECT {}").format(sql.Literal(marker)))
        try:
            yield Secrets(
                hashes[scram_role],
                hashes[md5_role],
                mapping_password,
                subscription_password,
                marker,
            )
        finally:
            admin.execute(sql.SQL("DROP SUBSCRIPTION {}").format(sql.Identifier(sub)))
            admin.execute(
                sql.SQL("DROP FOREIGN DATA WRAPPER {} CASCADE").format(sql.Identifier(fdw))
            )
            for role in (scram_role, md5_role):
                admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


OLD_READER_PREFIX = "plue_mcp_old_"


def role_of(url: str) -> str:
    user = psycopg.conninfo.conninfo_to_dict(url)["user"]
    assert isinstance(user, str) and user.startswith(OLD_READER_PREFIX)
    return user


@pytest.fixture
def old_reader(scratch_url: str) -> Iterator[str]:
    """NEGATIVE CONTROL: a login with the grants plue-db gave its reader before (a
    member of pg_read_all_data and pg_read_all_stats); yields its URL."""
    role = f"{OLD_READER_PREFIX}{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(role)
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
        admin.execute(sql.SQL("GRANT pg_read_all_data, pg_read_all_stats TO {}").format(ident))
        admin.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
        try:
            yield reader_role.with_user(scratch_url, role)
        finally:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            admin.execute(sql.SQL("DROP ROLE {}").format(ident))


def server_layers(url: str) -> Iterator[Run]:
    """The executor's server-side layers alone (no guard, no login check) as ``url``."""
    with psycopg.connect(url, autocommit=True) as conn:
        yield lambda text: readonly.execute_readonly(conn, text, LIMITS)


def leaks(run: Run, secrets: Secrets) -> dict[str, list[str]]:
    """Every secret read that ran and showed a secret, with the secrets it showed."""
    found = {}
    for name, text in SECRET_READS.items():
        try:
            result = run(text)
        except QueryError:
            continue
        if hits := secrets.found_in(result):
            found[name] = hits
    return found


EVERY_LEAK = {
    "pg_authid": ["scram", "md5"],
    "pg_shadow": ["scram", "md5"],
    "pg_user_mapping": ["mapping_password"],
    "pg_subscription": ["subscription_password"],
    # The fixture's admin session last ran CREATE SUBSCRIPTION: its text holds a password.
    "pg_stat_activity": ["subscription_password", "query_marker"],
    "pg_stat_get_activity": ["subscription_password", "query_marker"],
}


def test_the_reader_reads_no_secret(
    executor: readonly.ReadonlyExecutor, reader_url: str, secrets: Secrets
) -> None:
    assert leaks(executor.query, secrets) == {}
    for run in server_layers(reader_url):
        assert leaks(run, secrets) == {}
    with pytest.raises(QueryError, match="permission denied for table pg_authid"):
        executor.query(SECRET_READS["pg_authid"])


def test_negative_control_the_old_grants_read_every_secret(
    old_reader: str, secrets: Secrets
) -> None:
    for run in server_layers(old_reader):
        assert leaks(run, secrets) == EVERY_LEAK


def test_an_old_reader_is_refused_then_downgraded_at_start(
    scratch_url: str, old_reader: str, secrets: Secrets
) -> None:
    with pytest.raises(reader_role.ReaderSetupError, match="member of pg_read_all_data"):
        readonly.ReadonlyExecutor(old_reader, LIMITS)
    role = role_of(old_reader)
    assert reader_role.ensure_reader_role(scratch_url, role) == old_reader
    with psycopg.connect(scratch_url) as admin:
        groups = admin.execute(
            "SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole", (role,)
        ).fetchone()
    assert groups == (0,)
    downgraded = readonly.ReadonlyExecutor(old_reader, LIMITS)
    try:
        assert leaks(downgraded.query, secrets) == {}
        assert downgraded.query("SELECT 1 AS ok").rows == [[1]]
    finally:
        downgraded.close()


def test_a_given_login_that_can_read_a_secret_catalog_is_refused(
    scratch_url: str, old_reader: str
) -> None:
    role = role_of(old_reader)
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("REVOKE pg_read_all_data, pg_read_all_stats FROM {}").format(
                sql.Identifier(role)
            )
        )
        admin.execute(sql.SQL("GRANT SELECT ON pg_authid TO {}").format(sql.Identifier(role)))
        try:
            with pytest.raises(reader_role.ReaderSetupError, match=r"can read pg_authid"):
                readonly.ReadonlyExecutor(old_reader, LIMITS)
        finally:
            admin.execute(
                sql.SQL("REVOKE SELECT ON pg_authid FROM {}").format(sql.Identifier(role))
            )


def test_tables_created_after_the_reader_are_readable(
    scratch_url: str, reader_url: str, executor: readonly.ReadonlyExecutor
) -> None:
    """By default privileges for the migrating role; another role's table from the next
    start on (NEGATIVE CONTROL: unreadable before it, so the first check can fail)."""
    tag = uuid.uuid4().hex[:8]
    mine, theirs, other = f"later_{tag}", f"theirs_{tag}", f"plue_other_{tag}"
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE TABLE {} (n int)").format(sql.Identifier(mine)))
        admin.execute(sql.SQL("INSERT INTO {} VALUES (7)").format(sql.Identifier(mine)))
        assert executor.query(f"SELECT n FROM {mine}").rows == [[7]]
        admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(other)))
        try:
            admin.execute(
                sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(other))
            )
            admin.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(other)))
            admin.execute(
                sql.SQL("CREATE TABLE {} AS SELECT 8 AS n").format(sql.Identifier(theirs))
            )
            admin.execute("RESET ROLE")
            with pytest.raises(QueryError, match=f"permission denied for table {theirs}"):
                executor.query(f"SELECT n FROM {theirs}")
            reader_role.ensure_reader_role(scratch_url)
            assert executor.query(f"SELECT n FROM {theirs}").rows == [[8]]
        finally:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(other)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(other)))
            admin.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(mine)))


def test_stats_as_the_reader_count_other_sessions_without_their_state(
    reader_url: str, old_reader: str, scratch_url: str, secrets: Secrets
) -> None:
    with psycopg.connect(reader_url, autocommit=True) as conn:
        as_reader = stats.collect(conn)
    assert as_reader["connections"].get("not visible", 0) >= 1, as_reader["connections"]
    with psycopg.connect(old_reader, autocommit=True) as conn:  # NEGATIVE CONTROL
        assert "not visible" not in stats.collect(conn)["connections"]
    with psycopg.connect(scratch_url, autocommit=True) as admin:
        printed = stats.render(stats.collect(admin))
    for shown in (json.dumps(as_reader), printed):
        assert not [v for v in vars(secrets).values() if v in shown]
