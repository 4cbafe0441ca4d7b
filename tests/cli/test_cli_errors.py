"""User-caused failures, through the real plue-db process: one line, the fix, no secret.

Each case runs .venv/bin/plue-db with the environment a user would have set, and
checks the exit code, that stderr is one line naming the problem, that there is no
traceback, and that no password (nor a fragment libpq would quote) is printed. The
negative controls show the same secrets in libpq's raw messages, and an innocent
process killed by the ``pg_ctl stop`` that ``plue-db down`` used to run blindly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from plue_db import dsn
from plue_db.servers import embedded
from tests import strangers

PLUE_DB = str(Path(sys.executable).parent / "plue-db")
IS_ROOT = os.geteuid() == 0
# initdb, postgres and pg_ctl refuse root; pgserver runs them as this user.
PG_USER = "pgserver" if IS_ROOT else None
OWNER = PG_USER or os.getuid()  # who owns the files those tools write


def plue_db(*args: str, env: Mapping[str, str | None]) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``env`` applied on top of ours (None unsets a variable)."""
    full = {**os.environ}
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return subprocess.run(
        [PLUE_DB, *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(
    result: subprocess.CompletedProcess[str], command: str, *says: str, hidden: tuple[str, ...]
) -> None:
    """A user error: non-zero exit, one stderr line that says ``says``, nothing in ``hidden``."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"plue-db {command}: ")
    assert result.stderr.count("\n") == 1, result.stderr
    for words in says:
        assert words in result.stderr
    for secret in hidden:
        assert secret not in result.stdout + result.stderr


def url_with(base: str, **params: str) -> str:
    """``base`` (any libpq form) with some parameters replaced."""
    return make_conninfo("", **{**conninfo_to_dict(base), **params})


@dataclass(frozen=True)
class Malformed:
    """A connection string libpq rejects or misreads, and what its password is."""

    text: str
    problem: str  # what plue-db says is wrong
    secrets: tuple[str, ...]  # must never be printed
    libpq_leaks: str | None  # the part of the secret libpq's own message quotes


MALFORMED = [
    Malformed(
        "postgresql://u:TOP SECRET@127.0.0.1:5432/x",
        "unencoded space",
        ("TOP SECRET", "TOP", "SECRET"),
        "TOP SECRET",
    ),
    Malformed(
        "host=127.0.0.1 password=top secret dbname=x",
        "a word without '='",
        ("top", "secret"),
        "secret",
    ),
    Malformed(
        "host=127.0.0.1 password='mid b=quote", "unterminated quoted", ("mid", "b=quote"), None
    ),
    Malformed("postgresql://u:pass/word@127.0.0.1:5432/db", "%2F", ("pass/word", "word@"), None),
    Malformed("postgresql://u:p@zzword@127.0.0.1:5432/db", "%40", ("p@zzword", "zzword"), "zzword"),
    Malformed("postgresql://u:se%ZZcret@127.0.0.1/db", "%25", ("ZZcret",), "ZZcret"),
    Malformed(
        "postgresql://127.0.0.1/db?password=s3cr3t&oops",
        "query parameter without '='",
        ("s3cr3t", "oops"),
        "oops",
    ),
    Malformed(
        "postgresql://u:s3cr3t@127.0.0.1:notaport/db",
        "port that is not a number",
        ("s3cr3t",),
        None,
    ),
]
IDS = [m.text for m in MALFORMED]


@pytest.mark.parametrize(
    ("argv", "variable"),
    [
        (["migrate"], "DATABASE_URL"),
        (["up"], "DATABASE_URL"),
        (["stats"], "DATABASE_URL"),
        (["demo"], "DATABASE_URL"),
        (["mcp"], "DATABASE_URL"),
        (["mcp"], "PLUE_MCP_DATABASE_URL"),
        (["check", "--database-url", MALFORMED[0].text], "--database-url"),
        (["migrate", "--database-url", MALFORMED[0].text], "--database-url"),
    ],
)
def test_every_command_names_a_malformed_url_without_echoing_it(
    argv: list[str], variable: str, server_url: str
) -> None:
    env: dict[str, str | None] = {"DATABASE_URL": server_url}
    if not variable.startswith("--"):
        env[variable] = MALFORMED[0].text
    result = plue_db(*argv, env=env)
    assert_one_line(
        result,
        argv[0],
        f"{variable} is not a usable connection string",
        "unencoded space; write spaces as %20",
        "postgresql://u:***@127.0.0.1:5432/x",
        hidden=MALFORMED[0].secrets,
    )


@pytest.mark.parametrize("bad", MALFORMED, ids=IDS)
def test_malformed_urls_are_named_and_masked(bad: Malformed) -> None:
    result = plue_db("migrate", env={"DATABASE_URL": bad.text})
    assert_one_line(result, "migrate", "DATABASE_URL", bad.problem, "***", hidden=bad.secrets)


@pytest.mark.parametrize("bad", [m for m in MALFORMED if m.libpq_leaks], ids=str)
def test_negative_control_libpq_quotes_the_secret_that_plue_db_masks(bad: Malformed) -> None:
    """The unsafe path (print libpq's message as it is) leaks; the scrubbed one does not."""
    assert bad.libpq_leaks is not None
    with pytest.raises(psycopg.Error) as raised:
        psycopg.connect(bad.text, connect_timeout=2)
    raw = " ".join(str(raised.value).split())
    assert bad.libpq_leaks in raw
    assert bad.libpq_leaks not in dsn.scrub(raw, [bad.text])
    with pytest.raises(dsn.DsnError) as refused:
        dsn.validate(bad.text, "DATABASE_URL")
    assert bad.libpq_leaks not in str(refused.value)


def test_redaction_masks_what_the_old_parser_based_redaction_could_not() -> None:
    """Negative control: parsing before masking fails on (and quotes) the secret itself."""
    for bad in MALFORMED:
        shown = dsn.redacted(bad.text)
        assert "***" in shown
        for secret in bad.secrets:
            assert secret not in shown
    with pytest.raises(psycopg.ProgrammingError, match="TOP SECRET"):
        conninfo_to_dict(MALFORMED[0].text)


def test_unreachable_server_names_the_fix_and_hides_the_password() -> None:
    url = "postgresql://postgres:UNREACHABLE-SECRET@127.0.0.1:1/x?connect_timeout=2"
    for argv, env in (
        (("migrate", "--database-url", url), {}),
        (("stats",), {"DATABASE_URL": url}),
        (("mcp",), {"DATABASE_URL": url, "PLUE_MCP_DATABASE_URL": None}),
        (("mcp",), {"PLUE_MCP_DATABASE_URL": url}),
    ):
        result = plue_db(*argv, env=env)
        assert_one_line(
            result,
            argv[0],
            "Connection refused",
            "start the server or fix",
            hidden=("UNREACHABLE-SECRET",),
        )


def test_missing_database_and_role_name_the_fix(server_url: str) -> None:
    missing_db = url_with(server_url, dbname="plue_no_such_db", password="DB-SECRET")
    result = plue_db("stats", env={"DATABASE_URL": missing_db})
    assert_one_line(
        result,
        "stats",
        'database "plue_no_such_db" does not exist',
        "create the database or fix its name in DATABASE_URL",
        hidden=("DB-SECRET",),
    )
    missing_role = url_with(server_url, user="plue_no_such_role", password="ROLE-SECRET")
    result = plue_db("migrate", "--database-url", missing_role, env={})
    assert_one_line(
        result,
        "migrate",
        'role "plue_no_such_role" does not exist',
        "check the user name in --database-url",
        hidden=("ROLE-SECRET",),
    )


@pytest.fixture(scope="module")
def password_server() -> Iterator[str]:
    """A throwaway PostgreSQL 16 (the wheel's binaries) that checks passwords (scram).

    Both shared servers trust every login, so a wrong password needs its own cluster.
    """
    root = Path(tempfile.mkdtemp(prefix="plue_pw_"))
    data, pwfile = root / "data", root / "pw"
    pwfile.write_text("RIGHT-PASSWORD\n")
    if IS_ROOT:
        shutil.chown(root, OWNER)
        shutil.chown(pwfile, OWNER)
    bin_dir = embedded.bin_dir()

    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True, user=PG_USER, timeout=60)

    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=scram-sha-256",
        f"--pwfile={pwfile}",
    )
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        f"-h '' -k {root}",
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        yield make_conninfo("", host=str(root), user="postgres", dbname="postgres")
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root)


def test_wrong_password_names_the_fix_and_hides_it(password_server: str) -> None:
    with psycopg.connect(url_with(password_server, password="RIGHT-PASSWORD")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the right one works
    wrong = url_with(password_server, password="WRONG-SECRET")
    result = plue_db("migrate", env={"DATABASE_URL": wrong})
    assert_one_line(
        result,
        "migrate",
        'password authentication failed for user "postgres"',
        "check the user name and password in DATABASE_URL",
        hidden=("WRONG-SECRET", "RIGHT-PASSWORD"),
    )


@pytest.fixture
def unprivileged_url(server_url: str, empty_database_url: str) -> Iterator[str]:
    """A login that may connect to an empty database but not create anything in it."""
    role = f"plue_cli_nopriv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        yield url_with(empty_database_url, user=role, password="PRIV-SECRET")
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize("command", ["migrate", "up"])
def test_login_without_privileges_is_one_line_and_writes_nothing(
    command: str, unprivileged_url: str, empty_database_url: str
) -> None:
    result = plue_db(command, env={"DATABASE_URL": unprivileged_url})
    assert_one_line(
        result,
        command,
        "permission denied for schema public",
        "the login in DATABASE_URL lacks this privilege",
        "GRANT",
        hidden=("PRIV-SECRET",),
    )
    with psycopg.connect(empty_database_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def up_in(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``plue-db up`` on the embedded server with its data in ``data_dir``."""
    return plue_db("up", env={"DATABASE_URL": None, "PLUE_DB_PGDATA": str(data_dir)})


def test_pgdata_that_is_a_file_or_under_one(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a cluster")
    assert_one_line(up_in(a_file), "up", f"{a_file} is a file", "PLUE_DB_PGDATA", hidden=())
    below = a_file / "pgdata"
    result = up_in(below)
    assert_one_line(
        result, "up", f"is under {a_file}, which is a file", "PLUE_DB_PGDATA", hidden=()
    )
    assert a_file.read_text() == "not a cluster"


def test_pgdata_initdb_refuses_shows_initdb_s_own_reason() -> None:
    """initdb's output used to be lost in a CalledProcessError; its error line is the message."""
    # Under /tmp, not pytest's root-only tmp_path: initdb runs as the pgserver user.
    with tempfile.TemporaryDirectory(prefix="plue_pgdata_") as name:
        crowded = Path(name)
        (crowded / "notes.txt").write_text("someone's files")
        result = up_in(crowded)
        assert_one_line(
            result,
            "up",
            f"initdb failed for {crowded}: initdb: error: directory",
            "exists but is not empty",
            "PLUE_DB_PGDATA",
            hidden=(),
        )
        assert sorted(p.name for p in crowded.iterdir()) == ["notes.txt"]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nothing can be written under, even by root.

    As root (CI), a tmpfs mounted read-only, so writes fail with EROFS as on a real
    read-only disk; without the right to mount, an unwritable directory (which root
    would bypass, so that case is skipped rather than passed vacuously).
    """
    target = tmp_path / "ro"
    target.mkdir()
    mounted = (
        IS_ROOT
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if not mounted:
        if IS_ROOT:
            pytest.skip("root without mount rights: no way to make a directory unwritable")
        target.chmod(0o555)
    try:
        yield target
    finally:
        if mounted:
            subprocess.run(["umount", str(target)], check=True)
        else:
            target.chmod(0o755)


@pytest.mark.parametrize("where", ["itself", "below"])
def test_pgdata_on_a_read_only_filesystem(read_only_dir: Path, where: str) -> None:
    data_dir = read_only_dir if where == "itself" else read_only_dir / "pgdata"
    result = up_in(data_dir)
    reason = "Read-only file system" if IS_ROOT else "Permission denied"
    assert_one_line(
        result, "up", f"cannot use {read_only_dir}", reason, "PLUE_DB_PGDATA", hidden=()
    )
    assert list(read_only_dir.iterdir()) == []


@pytest.fixture
def stale_pid_dir() -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A cluster whose postmaster.pid names a live process that is not PostgreSQL.

    As after a crash and a reboot: PG_VERSION is there, and the pid now belongs to a
    process of the user pg_ctl runs as, so ``pg_ctl stop`` can signal it.
    """
    with tempfile.TemporaryDirectory(prefix="plue_stale_") as name, strangers.stranger() as other:
        data_dir = Path(name)
        (data_dir / "PG_VERSION").write_text("16\n")
        strangers.write_pid_file(data_dir / "postmaster.pid", other.pid)
        for path in (data_dir, *data_dir.iterdir()):
            shutil.chown(path, OWNER)
        yield data_dir, other


def test_down_with_a_stale_pid_file_leaves_the_other_process_alone(
    stale_pid_dir: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    data_dir, stranger = stale_pid_dir
    result = plue_db("down", env={"PLUE_DB_PGDATA": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == (
        f"the embedded PostgreSQL in {data_dir} is not running; removed its stale "
        f"postmaster.pid (pid {stranger.pid} is not this server, and was left alone)\n"
    )
    assert stranger.poll() is None
    assert not (data_dir / "postmaster.pid").exists()


def test_down_with_a_garbage_pid_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text("not a pid\n")
    result = plue_db("down", env={"PLUE_DB_PGDATA": str(tmp_path)})
    assert_one_line(result, "down", "postmaster.pid does not start with a pid", hidden=())
    assert (tmp_path / "postmaster.pid").read_text() == "not a pid\n"


def test_negative_control_pg_ctl_stop_kills_the_process_a_stale_pid_file_names(
    stale_pid_dir: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    """What ``plue-db down`` used to run once the pid was alive: it signals the stranger."""
    data_dir, stranger = stale_pid_dir
    said = subprocess.run(
        [str(embedded.bin_dir() / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-W", "stop"],
        capture_output=True,
        text=True,
        user=PG_USER,
        check=False,
        timeout=30,
    )
    assert said.stdout == "server shutting down\n"
    assert stranger.wait(timeout=10) == -signal.SIGINT
