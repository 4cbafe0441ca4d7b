"""The login the MCP tools read as: granted the application's tables and nothing more.

Least privilege, because PostgreSQL's broad read roles read more than data:
``pg_read_all_data`` bypasses the privilege checks on the catalogs that hold secrets
(``pg_authid.rolpassword``, ``pg_user_mapping.umoptions``,
``pg_subscription.subconninfo``), and ``pg_read_all_stats`` shows every session's query
text in ``pg_stat_activity``. So ``plue_mcp_reader`` belongs to no role at all; it gets
USAGE and SELECT on the ``public`` schema, and default privileges so that tables the
migrating role (the DATABASE_URL login, which runs the migrations) creates later are
readable too. The system catalogs ``describe_table`` needs are readable by everyone.

``ensure_reader_role`` runs each time the server starts: it downgrades a reader left by
an older version (revokes its role memberships) and grants tables created by other
roles since. ``verify_reader`` refuses any login that could write or read a secret.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import errors, sql

from plue_db import dsn

READER_ROLE = "plue_mcp_reader"
SCHEMA = "public"

# Predefined roles that reach past the application's tables, and what they would let
# the reader do; a login that is a member of any of them is refused.
ELEVATED_ROLES = {
    "pg_read_all_data": "read the password hashes in pg_authid",
    "pg_write_all_data": "write every table",
    "pg_read_all_stats": "read other sessions' query texts",
    "pg_read_server_files": "read the server's files",
    "pg_write_server_files": "write the server's files",
    "pg_execute_server_program": "run programs on the server",
    "pg_signal_backend": "cancel or terminate other sessions",
}

# Catalog privileges PostgreSQL withholds from PUBLIC because they hold secrets.
SECRET_CATALOGS = (
    "pg_authid (password hashes)",
    "pg_user_mapping (foreign server passwords)",
    "pg_subscription.subconninfo (replication passwords)",
)
READS_SECRETS = """
SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT'),
       has_table_privilege('pg_catalog.pg_user_mapping', 'SELECT'),
       has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT')
"""


class ReaderSetupError(Exception):
    """The read-only login cannot be created or is not safe to use."""


def with_user(url: str, user: str) -> str:
    """The same server and database as ``url``, logging in as ``user`` (no password)."""
    return dsn.with_params(url, user=user, password=None)


RACE_ERRORS = (errors.DuplicateObject, errors.UniqueViolation, errors.InternalError_)


def ensure_reader_role(admin_url: str, role: str = READER_ROLE) -> str:
    """Create, downgrade or repair the reader in ``admin_url``'s database (idempotent,
    safe when run concurrently) and return the URL that logs in as it.

    Two processes racing here both end with the role in place: the loser's CREATE/GRANT
    fails with a duplicate or a "tuple concurrently updated" error, and the retry finds
    the work done.
    """
    for attempt in range(5):
        try:
            with psycopg.connect(admin_url, autocommit=True) as admin, admin.transaction():
                _grant_reader(admin, role)
            return with_user(admin_url, role)
        except RACE_ERRORS:
            time.sleep(0.05 * (attempt + 1))
        except errors.InsufficientPrivilege as exc:
            raise ReaderSetupError(
                f"cannot create the read-only role {role!r}: {exc}. "
                "Set PLUE_MCP_DATABASE_URL to a login that can only read."
            ) from exc
    raise ReaderSetupError(f"could not create the read-only role {role!r} after 5 attempts")


def _grant_reader(admin: psycopg.Connection[Any], role: str) -> None:
    """Bring ``role`` to the wanted state, writing the catalog only where it differs."""
    ident = sql.Identifier(role)
    row = admin.execute(
        "SELECT rolsuper, rolcanlogin,"
        " coalesce('default_transaction_read_only=on' = ANY(rolconfig), false)"
        " FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()
    if row is None:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(ident)
        )
        row = (False, True, False)
    superuser, can_login, read_only = row
    if superuser:
        raise ReaderSetupError(
            f"role {role!r} is a superuser; it cannot serve as a read-only login"
        )
    if not can_login:
        admin.execute(sql.SQL("ALTER ROLE {} LOGIN").format(ident))
    if not read_only:
        admin.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
    memberships = admin.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        " WHERE m.member = %s::regrole ORDER BY 1",
        (role,),
    ).fetchall()
    for (group,) in memberships:  # e.g. pg_read_all_data from an older plue-db
        admin.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), ident))
    _grant_tables(admin, role)


def _grant_tables(admin: psycopg.Connection[Any], role: str) -> None:
    """SELECT on every relation of the schema, now and (by default privileges) later."""
    ident, schema = sql.Identifier(role), sql.Identifier(SCHEMA)
    usage = admin.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", (role, SCHEMA))
    if usage.fetchone() != (True,):
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, ident))
    unreadable = admin.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace"
        " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND NOT has_table_privilege(%s, c.oid, 'SELECT') ORDER BY 1",
        (SCHEMA, role),
    ).fetchall()
    for (name,) in unreadable:
        table = sql.Identifier(SCHEMA, name)
        admin.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, ident))
    defaults = admin.execute(
        "SELECT 1 FROM pg_default_acl WHERE defaclrole = current_user::regrole"
        " AND defaclnamespace = %s::regnamespace AND defaclobjtype = 'r'"
        " AND aclcontains(defaclacl, makeaclitem(%s::regrole, current_user::regrole,"
        " 'SELECT', false))",
        (SCHEMA, role),
    ).fetchone()
    if defaults is None:
        admin.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                schema, ident
            )
        )


def verify_reader(conn: psycopg.Connection[Any]) -> None:
    """Refuse a login that could write, or read what the application's tables don't hold:
    a superuser, a member of an elevated predefined role, one that can read a secret
    catalog, or one with write rights on any table."""
    row = conn.execute(
        "SELECT session_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user"
    ).fetchone()
    assert row is not None
    user, privileged = row
    if privileged:
        raise ReaderSetupError(
            f"login {user!r} is a superuser or bypasses RLS; use a read-only login"
        )
    member = conn.execute(
        "SELECT g FROM unnest(%s::text[]) g WHERE pg_has_role(session_user, g, 'USAGE') LIMIT 1",
        (list(ELEVATED_ROLES),),
    ).fetchone()
    if member is not None:
        raise ReaderSetupError(
            f"login {user!r} is a member of {member[0]}, which lets it"
            f" {ELEVATED_ROLES[member[0]]}; use a login granted only the application's tables"
        )
    readable = conn.execute(READS_SECRETS).fetchone()
    assert readable is not None
    for catalog, can_read in zip(SECRET_CATALOGS, readable, strict=True):
        if can_read:
            raise ReaderSetupError(f"login {user!r} can read {catalog}; use a read-only login")
    writable = conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') LIMIT 1"
    ).fetchone()
    if writable is not None:
        raise ReaderSetupError(
            f"login {user!r} can write to table {writable[0]}; use a read-only login"
        )
