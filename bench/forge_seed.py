"""Fill a database with a realistic forge through COPY, fast enough to run at a million rows.

At scale 1.0: 10,000 users, 1,000 repositories, 1,000,000 issues, 3,000,000 comments,
1,000,000 workflow log lines, plus the agent sessions, landing requests, pull requests
and credentials the hot queries read. Every parent table has one *hot* parent (id 1:
user, repository, issue, run, session) that owns a tenth of its children, the rest
spread at random, so list queries can be measured on a long list and a typical one.

Ids come out of fresh identity columns (1..N), which is why the target must be empty.

    python -m bench.forge_seed --scale 0.01 --database plue_forge

Over 400 lines on purpose: one COPY generator per table in foreign-key order, sharing
the id plan and the hot parents.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from plue_queries import workflows
from plue_queries.enums import LogStream
from psycopg import sql

from plue_db import config, servers

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
SPAN = datetime.timedelta(days=3 * 365)
HOT_ID = 1
"""The id of the hot parent in every table."""
HOT_SHARE = 10
"""One child in HOT_SHARE belongs to the hot parent."""

Row = Sequence[object]
Conn = psycopg.Connection[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class ForgeSize:
    """How many rows each table gets."""

    users: int
    repositories: int
    issues: int
    comments: int
    runs: int
    log_lines: int
    sessions: int
    messages: int
    landing_requests: int
    pull_requests: int

    @classmethod
    def at(cls, scale: float) -> ForgeSize:
        """The full forge times ``scale`` (at least one row per table)."""
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")

        def n(full: int) -> int:
            return max(1, round(full * scale))

        return cls(
            users=n(10_000),
            repositories=n(1_000),
            issues=n(1_000_000),
            comments=n(3_000_000),
            runs=n(100_000),
            log_lines=n(1_000_000),
            sessions=n(20_000),
            messages=n(500_000),
            landing_requests=n(50_000),
            pull_requests=n(100_000),
        )


@dataclass(frozen=True, slots=True)
class SeedReport:
    size: ForgeSize
    seconds: dict[str, float]
    """Seconds per table (and for ANALYZE), in load order."""

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class _Parents:
    """Picks a parent id for each child: the hot one for one child in HOT_SHARE."""

    def __init__(self, count: int, rng: random.Random) -> None:
        self._count = count
        self._rng = rng

    def pick(self, child_index: int) -> int:
        if child_index % HOT_SHARE == 0 or self._count == 1:
            return HOT_ID
        return self._rng.randrange(2, self._count + 1)


def _timeline(index: int, count: int) -> datetime.datetime:
    """Creation times that grow with the id, spread over SPAN before NOW."""
    return NOW - SPAN + SPAN * ((index + 1) / (count + 1))


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _change_id(index: int) -> str:
    """A jj change id (32 letters k-z) unique for ``index``: its hex digits shifted."""
    return "".join(chr(ord("k") + int(d, 16)) for d in f"{index:032x}")


def _copy(conn: Conn, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _users(size: ForgeSize, rng: random.Random) -> Iterator[Row]:
    for i in range(1, size.users + 1):
        wallet = f"0x{rng.getrandbits(160):040x}" if i % 3 == 0 else None
        yield (
            f"user{i}",
            f"user{i}@example.org",
            f"User {i}",
            "Writes code and reviews changes." * (i % 3),
            wallet,
            _timeline(i, size.users),
        )


def _credentials(size: ForgeSize) -> list[tuple[str, Sequence[str], Iterable[Row]]]:
    """One browser session, API token and SSH key per user, findable by hash."""
    expires = NOW + datetime.timedelta(days=3650)
    users = [(i, _timeline(i, size.users)) for i in range(1, size.users + 1)]
    return [
        (
            "auth_sessions",
            ("user_id", "session_key_hash", "user_agent", "expires_at", "created_at"),
            ((i, session_key_hash(i), "Mozilla/5.0", expires, at) for i, at in users),
        ),
        (
            "access_tokens",
            ("user_id", "name", "token_hash", "token_last_eight", "created_at"),
            ((i, "default", access_token_hash(i), f"{i:08d}"[-8:], at) for i, at in users),
        ),
        (
            "ssh_keys",
            ("user_id", "name", "fingerprint", "public_key", "key_type", "created_at"),
            (
                (i, "laptop", ssh_fingerprint(i), f"ssh-ed25519 AAAAC3{i:020d}", "ssh-ed25519", at)
                for i, at in users
            ),
        ),
    ]


def session_key_hash(user_id: int) -> str:
    """The stored hash of the seeded browser session of ``user_id``."""
    return _sha256_hex(f"session-{user_id}")


def access_token_hash(user_id: int) -> str:
    """The stored hash of the seeded API token of ``user_id``."""
    return _sha256_hex(f"token-{user_id}")


def ssh_fingerprint(user_id: int) -> str:
    """The OpenSSH fingerprint of the seeded key of ``user_id``."""
    digest = hashlib.sha256(f"key-{user_id}".encode()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _repositories(size: ForgeSize, rng: random.Random) -> Iterator[Row]:
    owners = _Parents(size.users, rng)
    for i in range(size.repositories):
        yield (
            owners.pick(i),
            f"repo{i + 1}",
            f"Repository number {i + 1}",
            i % 5 != 0,
            ["forge", "jj"] if i % 4 == 0 else [],
            _timeline(i, size.repositories),
        )


def _issues(size: ForgeSize, rng: random.Random, numbers: list[int]) -> Iterator[Row]:
    """Issues numbered 1..n per repository; ``numbers`` counts them per repository."""
    repos = _Parents(size.repositories, rng)
    authors = _Parents(size.users, rng)
    for i in range(size.issues):
        repo = repos.pick(i)
        numbers[repo] += 1
        created = _timeline(i, size.issues)
        closed = created + datetime.timedelta(days=2) if i % 10 in (3, 6, 9) else None
        yield (
            repo,
            numbers[repo],
            f"Issue {i + 1}: something is off",
            "Steps to reproduce: run it twice.",
            "closed" if closed else "open",
            closed,
            authors.pick(i),
            created,
        )


def _comments(size: ForgeSize, rng: random.Random) -> Iterator[Row]:
    issues = _Parents(size.issues, rng)
    authors = _Parents(size.users, rng)
    for i in range(size.comments):
        issue = issues.pick(i)
        after = datetime.timedelta(minutes=rng.randrange(60 * 24 * 30))
        yield (
            issue,
            authors.pick(i),
            "I can reproduce this on main.",
            _timeline(issue - 1, size.issues) + after,
        )


def _definitions(size: ForgeSize) -> Iterator[Row]:
    plan = json.dumps({"steps": [{"name": "build", "run": "make"}]})
    for repo in range(1, size.repositories + 1):
        yield (repo, "ci", ".plue/ci.yml", plan)


def _runs(size: ForgeSize, rng: random.Random) -> Iterator[Row]:
    repos = _Parents(size.repositories, rng)
    commit = "a" * 40
    for i in range(size.runs):
        repo = repos.pick(i)
        created = _timeline(i, size.runs)
        finished = created + datetime.timedelta(minutes=3)
        status = "failed" if i % 7 == 0 else "succeeded"
        # Definition ids equal repository ids: one "ci" definition per repository.
        yield (repo, repo, "push", "main", commit, status, created, finished, created)


def _steps(size: ForgeSize) -> Iterator[Row]:
    for run in range(1, size.runs + 1):
        at = _timeline(run - 1, size.runs)
        yield (run, "build", 0, "succeeded", 0, at, at + datetime.timedelta(minutes=2), at)


def _log_lines(size: ForgeSize, rng: random.Random) -> Iterator[workflows.CopyWorkflowLogsParams]:
    runs = _Parents(size.runs, rng)
    for i in range(size.log_lines):
        run = runs.pick(i)
        # Step ids equal run ids: one "build" step per run.
        yield workflows.CopyWorkflowLogsParams(
            run_id=run,
            step_id=run,
            stream=LogStream.STDERR if i % 50 == 0 else LogStream.STDOUT,
            content=f"[{i}] compiling module {i % 997} ... ok",
        )


def _sessions(size: ForgeSize, rng: random.Random) -> Iterator[Row]:
    users = _Parents(size.users, rng)
    for i in range(size.sessions):
        user = users.pick(i)
        yield (
            user,
            f"Session {i + 1}",
            f"/home/user{user}/work",
            "claude-sonnet-4",
            "idle",
            _timeline(i, size.sessions),
        )


def _messages(size: ForgeSize, rng: random.Random, positions: list[int]) -> Iterator[Row]:
    """Messages at positions 0..n-1 per session; ``positions`` counts them per session."""
    sessions = _Parents(size.sessions, rng)
    for i in range(size.messages):
        session = sessions.pick(i)
        position = positions[session]
        positions[session] += 1
        role = "user" if position % 2 == 0 else "assistant"
        yield (session, position, role, "completed", 1, _timeline(i, size.messages))


def _parts(size: ForgeSize) -> Iterator[Row]:
    content = json.dumps({"text": "Let me look at the failing test first."})
    for message in range(1, size.messages + 1):
        yield (message, 0, "text", content, _timeline(message - 1, size.messages))


def _landing_requests(size: ForgeSize, rng: random.Random) -> Iterator[Row]:
    repos = _Parents(size.repositories, rng)
    statuses = ("pending", "pending", "queued", "abandoned", "landed")
    for i in range(size.landing_requests):
        status = statuses[i % len(statuses)]
        created = _timeline(i, size.landing_requests)
        landed = created + datetime.timedelta(hours=5) if status == "landed" else None
        yield (repos.pick(i), _change_id(i), f"Land change {i + 1}", status, landed, created)


def _pull_requests(size: ForgeSize, rng: random.Random, numbers: list[int]) -> Iterator[Row]:
    """Pull requests numbered after the issues: the two share a repository's counter."""
    repos = _Parents(size.repositories, rng)
    for i in range(size.pull_requests):
        repo = repos.pick(i)
        numbers[repo] += 1
        created = _timeline(i, size.pull_requests)
        merged = created + datetime.timedelta(days=1) if i % 3 == 0 else None
        yield (
            repo,
            numbers[repo],
            f"Pull request {i + 1}",
            repo,
            f"feature-{i}",
            "main",
            "merged" if merged else "open",
            merged,
            created,
        )


def seed_forge(url: str, size: ForgeSize, *, seed: int = 1) -> SeedReport:
    """Load every table through COPY into the empty database at ``url``, then ANALYZE."""
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    issue_numbers = [0] * (size.repositories + 1)
    positions = [0] * (size.sessions + 1)
    # Generators run lazily, in this order: pull requests number after the issues.
    tables: list[tuple[str, Sequence[str], Iterable[Row]]] = [
        ("users", _USER_COLUMNS, _users(size, rng)),
        *_credentials(size),
        ("repositories", _REPO_COLUMNS, _repositories(size, rng)),
        ("issues", _ISSUE_COLUMNS, _issues(size, rng, issue_numbers)),
        ("comments", _COMMENT_COLUMNS, _comments(size, rng)),
        ("workflow_definitions", _DEFINITION_COLUMNS, _definitions(size)),
        ("workflow_runs", _RUN_COLUMNS, _runs(size, rng)),
        ("workflow_steps", _STEP_COLUMNS, _steps(size)),
        ("sessions", _SESSION_COLUMNS, _sessions(size, rng)),
        ("messages", _MESSAGE_COLUMNS, _messages(size, rng, positions)),
        ("parts", _PART_COLUMNS, _parts(size)),
        ("landing_queue", _LANDING_COLUMNS, _landing_requests(size, rng)),
        ("pull_requests", _PR_COLUMNS, _pull_requests(size, rng, issue_numbers)),
    ]
    with psycopg.connect(url) as conn:
        _require_empty(conn, url)
        # The rows are consistent by construction; skipping the per-row foreign-key
        # triggers (as pg_restore --disable-triggers does) makes COPY several times faster.
        conn.execute("SET session_replication_role = replica")
        for table, columns, rows in tables:
            with _timed(seconds, table):
                _copy(conn, table, columns, rows)
                conn.commit()
        with _timed(seconds, "workflow_logs"):
            workflows.copy_workflow_logs(conn, _log_lines(size, rng))
            conn.commit()
        with _timed(seconds, "counters"):
            _set_counters(conn, issue_numbers, positions)
            conn.commit()
    with _timed(seconds, "vacuum analyze"), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return SeedReport(size, seconds)


@contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started


_USER_COLUMNS = ("username", "email", "display_name", "bio", "wallet_address", "created_at")
_REPO_COLUMNS = ("owner_id", "name", "description", "is_public", "topics", "created_at")
_ISSUE_COLUMNS = (
    "repository_id",
    "issue_number",
    "title",
    "body",
    "state",
    "closed_at",
    "author_id",
    "created_at",
)
_COMMENT_COLUMNS = ("issue_id", "author_id", "body", "created_at")
_DEFINITION_COLUMNS = ("repository_id", "name", "file_path", "plan")
_RUN_COLUMNS = (
    "repository_id",
    "definition_id",
    "trigger_event",
    "ref",
    "commit_id",
    "status",
    "started_at",
    "finished_at",
    "created_at",
)
_STEP_COLUMNS = (
    "run_id",
    "name",
    "position",
    "status",
    "exit_code",
    "started_at",
    "finished_at",
    "created_at",
)
_SESSION_COLUMNS = ("user_id", "title", "directory", "model", "status", "created_at")
_MESSAGE_COLUMNS = ("session_id", "position", "role", "status", "part_count", "created_at")
_PART_COLUMNS = ("message_id", "position", "kind", "content", "created_at")
_LANDING_COLUMNS = ("repository_id", "change_id", "title", "status", "landed_at", "created_at")
_PR_COLUMNS = (
    "base_repository_id",
    "pr_number",
    "title",
    "head_repository_id",
    "head_branch",
    "base_branch",
    "state",
    "merged_at",
    "created_at",
)


def _require_empty(conn: Conn, url: str) -> None:
    row = conn.execute("SELECT EXISTS (SELECT FROM users)").fetchone()
    if row is None or row[0]:
        raise SystemExit(
            f"{config.redacted(url)} already holds users; seed a fresh database "
            "(ids are assumed to start at 1)"
        )


def _set_counters(conn: Conn, issue_numbers: list[int], positions: list[int]) -> None:
    """Counters the application keeps: next issue number, message count per session."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE repositories r SET next_issue_number = n.used + 1"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS n(used, id)"
            " WHERE r.id = n.id",
            (issue_numbers[1:],),
        )
        cur.execute(
            "UPDATE sessions s SET message_count = n.used"
            " FROM unnest(%s::integer[]) WITH ORDINALITY AS n(used, id)"
            " WHERE s.id = n.id AND n.used > 0",
            (positions[1:],),
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a million issues")
    parser.add_argument(
        "--database",
        default="plue_forge",
        help="database to create on the configured server (DATABASE_URL or the embedded one)",
    )
    args = parser.parse_args(argv)
    try:
        size = ForgeSize.at(args.scale)
    except ValueError as exc:
        parser.error(str(exc))
    server = servers.database_url()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
    url = config.with_database(server, args.database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(config.SCHEMA_PATH.read_bytes())
    report = seed_forge(url, size)
    for name, secs in report.seconds.items():
        print(f"{name:<22} {secs:8.1f} s")
    print(f"{'total':<22} {report.total_seconds:8.1f} s  -> {config.redacted(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
