"""Bad input through the generated functions: a clear error, and nothing written.

Each test counts the affected tables before the call and after its savepoint is rolled
back, so a statement that wrote part of its work before failing would show up. The
facts asserted here are what psycopg 3 and PostgreSQL really do, measured, including
two places where they coerce rather than reject (see the wrong-type tests).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from plue_queries import collaboration, issues, llm_usage, models, users, workflows
from plue_queries.enums import IssueEventType, WatchMode
from plue_queries.types import ParameterValueError
from psycopg import errors, sql

from tests.factories import make_issue, make_repo, make_user, make_workflow_run
from tests.fixtures.fix_db import Conn


def row_counts(conn: Conn, tables: tuple[str, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        assert row is not None
        counts[table] = row[0]
    return counts


def rejected(
    conn: Conn, error: type[BaseException], tables: tuple[str, ...], call: Callable[[], object]
) -> BaseException:
    """Run call in a savepoint; it must raise error and leave tables as they were."""
    before = row_counts(conn, tables)
    with pytest.raises(error) as info, conn.transaction():
        call()
    assert row_counts(conn, tables) == before
    return info.value


def new_user(conn: Conn, username: str, **overrides: Any) -> models.User | None:
    fields: dict[str, Any] = {
        "username": username,
        "email": None,
        "display_name": "",
        "bio": "",
        "avatar_url": None,
        "wallet_address": None,
        "is_admin": False,
    }
    fields.update(overrides)
    return users.create_user(conn, **fields)


def test_nul_byte_in_text_is_refused_by_psycopg_before_sending(conn: Conn) -> None:
    issue = make_issue(conn)
    error = rejected(
        conn,
        psycopg.DataError,
        ("comments",),
        lambda: issues.create_comment(conn, issue_id=issue.id, body="log line\x00tail"),
    )
    assert str(error) == "PostgreSQL text fields cannot contain NUL (0x00) bytes"


def test_nul_escape_in_jsonb_is_refused_by_postgres(conn: Conn) -> None:
    """A JSON string holding U+0000 reaches the server as the escape \\u0000, which
    jsonb cannot store (it has no NUL either)."""
    issue = make_issue(conn)
    error = rejected(
        conn,
        errors.UntranslatableCharacter,
        ("issue_events",),
        lambda: issues.create_issue_event(
            conn,
            issue_id=issue.id,
            event_type=IssueEventType.EDITED,
            payload={"output": "agent said \x00"},
        ),
    )
    assert "\\u0000 cannot be converted to text" in str(error)


def test_invalid_utf8_cannot_leave_python(conn: Conn) -> None:
    """A str can only hold invalid UTF-8 as lone surrogates (e.g. from
    os.fsdecode or errors="surrogateescape"); encoding it for the wire fails in Python
    with UnicodeEncodeError, a ValueError giving the position of the bad characters
    (it does not name the parameter)."""
    issue = make_issue(conn)
    undecodable = b"build \xff\xfe done".decode("utf-8", errors="surrogateescape")
    error = rejected(
        conn,
        UnicodeEncodeError,
        ("comments",),
        lambda: issues.create_comment(conn, issue_id=issue.id, body=undecodable),
    )
    assert isinstance(error, ValueError)
    assert isinstance(error, UnicodeEncodeError)
    assert (error.start, error.end) == (6, 8)
    assert (
        str(error)
        == "'utf-8' codec can't encode characters in position 6-7: surrogates not allowed"
    )


def test_too_long_name_violates_its_length_check(conn: Conn) -> None:
    """The schema has no varchar(n): lengths are CHECK constraints, which name
    themselves (a 40-character username breaks users_username_format, max 39)."""
    varchar_columns = conn.execute(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type = 'character varying'"
    ).fetchone()
    assert varchar_columns == (0,)
    assert new_user(conn, "a" * 39) is not None
    error = rejected(conn, errors.CheckViolation, ("users",), lambda: new_user(conn, "b" * 40))
    assert isinstance(error, errors.CheckViolation)
    assert error.diag.constraint_name == "users_username_format"
    assert error.diag.table_name == "users"


def test_int4_out_of_range_is_numeric_value_out_of_range(conn: Conn) -> None:
    run = make_workflow_run(conn)

    def step(position: int) -> models.WorkflowStep | None:
        return workflows.create_workflow_step(
            conn, run_id=run.id, name="build", position=position, depends_on=[]
        )

    error = rejected(conn, errors.NumericValueOutOfRange, ("workflow_steps",), lambda: step(2**31))
    assert str(error) == "integer out of range"
    stored = step(2**31 - 1)
    assert stored is not None and stored.position == 2**31 - 1


def test_int8_out_of_range_is_numeric_value_out_of_range(conn: Conn) -> None:
    """Beyond int8, psycopg sends a numeric, and the server's cast to bigint fails."""
    error = rejected(
        conn,
        errors.NumericValueOutOfRange,
        ("llm_usage",),
        lambda: llm_usage.record_llm_usage(
            conn,
            provider="anthropic",
            model="claude",
            input_tokens=1,
            output_tokens=1,
            cost_micro_usd=2**63,
        ),
    )
    assert str(error) == "bigint out of range"


def test_naive_datetime_for_timestamptz_is_refused_before_sending(conn: Conn) -> None:
    """A naive datetime has no instant: psycopg would send it as `timestamp` and
    PostgreSQL read it in the session's TimeZone (asyncpg in Python's local zone), so the
    generated functions refuse it, naming the parameter, and send nothing. Control: the
    same naive value sent raw is silently read as Tokyo time."""
    conn.execute("SET LOCAL TimeZone = 'Asia/Tokyo'")
    usage = llm_usage.record_llm_usage(
        conn,
        provider="anthropic",
        model="claude",
        input_tokens=1,
        output_tokens=2,
        cost_micro_usd=3,
    )
    utc_wall = usage.created_at.astimezone(datetime.UTC).replace(tzinfo=None)
    cursor = psycopg.RawCursor(conn)
    assumed = cursor.execute("SELECT $1::timestamptz", (utc_wall,)).fetchone()
    assert assumed == (utc_wall.replace(tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")),)  # control
    minute = datetime.timedelta(minutes=1)
    before = row_counts(conn, ("llm_usage",))["llm_usage"]
    with pytest.raises(ParameterValueError, match=r"^delete_llm_usage_before: before: .* is naive"):
        llm_usage.delete_llm_usage_before(conn, before=utc_wall + minute)
    assert row_counts(conn, ("llm_usage",))["llm_usage"] == before
    aware = (utc_wall + minute).replace(tzinfo=datetime.UTC)
    assert llm_usage.delete_llm_usage_before(conn, before=aware) == 1
    assert row_counts(conn, ("llm_usage",))["llm_usage"] == before - 1


def test_unknown_enum_value_is_invalid_text_representation(conn: Conn) -> None:
    user, repo = make_user(conn), make_repo(conn)
    error = rejected(
        conn,
        errors.InvalidTextRepresentation,
        ("watches",),
        lambda: collaboration.watch_repository(
            conn,
            user_id=user.id,
            repository_id=repo.id,
            mode="loud",  # type: ignore[arg-type]
        ),
    )
    assert str(error).startswith('invalid input value for enum watch_mode: "loud"')
    watch = collaboration.watch_repository(
        conn, user_id=user.id, repository_id=repo.id, mode=WatchMode.IGNORING
    )
    assert watch is not None and watch.mode is WatchMode.IGNORING


def test_wrong_types_that_cannot_be_sent_or_parsed_are_refused(conn: Conn) -> None:
    issue = make_issue(conn)
    unadaptable = rejected(
        conn,
        psycopg.ProgrammingError,
        ("comments",),
        lambda: issues.create_comment(conn, issue_id={"id": issue.id}, body="x"),  # type: ignore[arg-type]
    )
    assert str(unadaptable).startswith("cannot adapt type 'dict'")
    unparsable = rejected(
        conn,
        errors.InvalidTextRepresentation,
        ("comments",),
        lambda: issues.create_comment(conn, issue_id="first", body="x"),  # type: ignore[arg-type]
    )
    assert str(unparsable).startswith('invalid input syntax for type bigint: "first"')


def test_wrong_types_postgres_can_cast_are_coerced_not_rejected(conn: Conn) -> None:
    """Known gap, measured: the generated functions do not check types at run time
    (mypy --strict does, statically). What PostgreSQL can cast on assignment is stored
    converted: a float for a bigint is rounded, an int or bytes for text become their
    text form, a digit string for a bigint is parsed. Asserted so a change is noticed."""
    issue = make_issue(conn)
    other = make_issue(conn)
    assert other.id == issue.id + 1
    # float8 -> bigint rounds half to even, so x.5 would depend on the id's parity.
    rounded = issues.create_comment(conn, issue_id=issue.id + 0.6, body="x")  # type: ignore[arg-type]
    assert rounded is not None and rounded.issue_id == other.id
    number = issues.create_comment(conn, issue_id=issue.id, body=123)  # type: ignore[arg-type]
    assert number is not None and number.body == "123"
    raw = issues.create_comment(conn, issue_id=issue.id, body=b"ok\xff")  # type: ignore[arg-type]
    assert raw is not None and raw.body == "\\x6f6bff"
    parsed = issues.create_comment(conn, issue_id=str(issue.id), body="x")  # type: ignore[arg-type]
    assert parsed is not None and parsed.issue_id == issue.id


def test_foreign_key_to_missing_row_names_the_constraint(conn: Conn) -> None:
    missing = 2**62
    error = rejected(
        conn,
        errors.ForeignKeyViolation,
        ("comments", "issues"),
        lambda: issues.create_comment(conn, issue_id=missing, body="orphan"),
    )
    assert isinstance(error, errors.ForeignKeyViolation)
    assert error.diag.constraint_name == "comments_issue_id_fkey"
    assert f'Key (issue_id)=({missing}) is not present in table "issues"' in str(error)


def test_duplicate_username_any_case_names_the_unique_index(conn: Conn) -> None:
    user = make_user(conn)
    error = rejected(
        conn,
        errors.UniqueViolation,
        ("users", "email_addresses"),
        lambda: new_user(conn, user.username.upper()),
    )
    assert isinstance(error, errors.UniqueViolation)
    assert error.diag.constraint_name == "users_username_lower_key"


def test_duplicate_label_name_in_a_repository_names_the_constraint(conn: Conn) -> None:
    repo = make_repo(conn)

    def label() -> object:
        return issues.create_label(
            conn, repository_id=repo.id, name="bug", color="#d73a4a", description=""
        )

    assert label() is not None
    error = rejected(conn, errors.UniqueViolation, ("labels",), label)
    assert isinstance(error, errors.UniqueViolation)
    assert error.diag.constraint_name == "labels_repository_name_key"
