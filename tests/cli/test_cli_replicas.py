"""`plue-db up --replicas N` and `down` with stale pid files, through the real command.

The embedded primary and its replica live in a temporary PLUE_DB_PGDATA (never the
shared .pgdata). A pid file left by a server names a live stranger, as after a crash
and a reboot: `up` removes the stale file and starts the server, `down` stops every
server it can and never signals the stranger, and neither claims a server that does
not answer. The negative control runs the old checks (``kill -0`` and a blind
``pg_ctl stop``) on the same files: they take the stranger for the replica, and kill it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from plue_db.servers import embedded, replicas, service_user
from plue_db.servers.pidfile import PidFile
from tests import strangers
from tests.cli.test_cli_errors import assert_one_line, plue_db

# Servers of its own in a temporary PLUE_DB_PGDATA: run once, not per server under test.
pytestmark = pytest.mark.own_servers


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A primary and replica1 made by `plue-db up --replicas 1` (no migrations)."""
    with tempfile.TemporaryDirectory(prefix="plue_cli_replicas_") as name:
        root = Path(name)
        (root / "migrations").mkdir()
        try:
            made = cli(root, "up", "--replicas", "1")
            assert made.returncode == 0, made.stderr
            assert progress("cloned from the primary and started").match(made.stderr)
            yield root
        finally:
            cli(root, "down")


@pytest.fixture
def stopped(home: Path) -> Iterator[Path]:
    """``home`` with every server stopped, before and after the test."""
    assert cli(home, "down").returncode == 0
    yield home
    cli(home, "down")


def progress(done: str) -> re.Pattern[str]:
    """`up`'s line on stderr as a replica is up (stdout keeps the URLs scripts read)."""
    return re.compile(rf"replica1 of 1: {done} \(\d+\.\d s\)\n\Z")


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    more = ("--migrations-dir", str(root / "migrations")) if args[0] == "up" else ()
    env = {"DATABASE_URL": None, "PLUE_DB_PGDATA": str(root / "pgdata")}
    return plue_db(*args, *more, env=env)


def replica_dir(root: Path) -> Path:
    return root / "pgdata-replicas" / "replica1"


def postgres_in(data_dir: Path) -> list[int]:
    """The postgres processes running in ``data_dir``, whatever pid files say."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "postgres" and Path(process.cwd()) == data_dir:
                found.append(process.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def serves(url: str) -> tuple[str, bool]:
    """The data directory of the server at ``url``, and whether it is a replica."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT current_setting('data_directory'), pg_is_in_recovery()")
        data_dir, in_recovery = row.fetchone() or ("", False)
    return data_dir, in_recovery


def stale_line(what: str, pid: int, was: str) -> str:
    return (
        f"{what} {was} not running; removed its stale postmaster.pid "
        f"(pid {pid} is not this server, and was left alone)"
    )


@pytest.mark.parametrize("server", ["primary", "replica1"])
def test_up_removes_a_stale_pid_file_and_starts_the_server(stopped: Path, server: str) -> None:
    pgdata, replica = stopped / "pgdata", replica_dir(stopped)
    data_dir = pgdata if server == "primary" else replica
    what = (
        f"the embedded PostgreSQL in {pgdata}"
        if server == "primary"
        else f"replica1 of the embedded PostgreSQL ({replica})"
    )
    with strangers.stranger(cwd=data_dir) as other:
        strangers.write_pid_file(data_dir / "postmaster.pid", other.pid)
        result = cli(stopped, "up", "--replicas", "1")
        assert result.returncode == 0, result.stderr
        assert progress("started").match(result.stderr), result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == stale_line(what, other.pid, "was")
        replica_url = lines[-1].removeprefix("PLUE_DB_REPLICA_URLS=")
        assert serves(replica_url) == (str(replica), True)
        assert serves(embedded_url(lines)) == (str(pgdata), False)
        assert other.poll() is None

        down = cli(stopped, "down")
        assert (down.returncode, down.stderr) == (0, "")
        assert down.stdout.splitlines() == [
            f"stopped replica1 of the embedded PostgreSQL ({replica})",
            f"stopped the embedded PostgreSQL in {pgdata}",
        ]
        assert postgres_in(pgdata) == postgres_in(replica) == []
        assert other.poll() is None


def embedded_url(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("postgresql://"))


def test_down_stops_the_primary_past_a_stale_replica_and_leaves_the_stranger(
    stopped: Path,
) -> None:
    """The issue's `down`: it signalled the stranger, failed, and left the primary up."""
    pgdata, replica = stopped / "pgdata", replica_dir(stopped)
    assert cli(stopped, "up").returncode == 0  # the primary only
    assert postgres_in(pgdata)
    with strangers.stranger(cwd=replica) as other:
        strangers.write_pid_file(replica / "postmaster.pid", other.pid)
        down = cli(stopped, "down")
        assert (down.returncode, down.stderr) == (0, "")
        assert down.stdout.splitlines() == [
            stale_line(f"replica1 of the embedded PostgreSQL ({replica})", other.pid, "is"),
            f"stopped the embedded PostgreSQL in {pgdata}",
        ]
        assert other.poll() is None
    assert postgres_in(pgdata) == []
    assert not (replica / "postmaster.pid").exists()


def test_down_stops_the_rest_past_a_server_it_cannot_stop(stopped: Path) -> None:
    pgdata, replica = stopped / "pgdata", replica_dir(stopped)
    assert cli(stopped, "up").returncode == 0
    (replica / "postmaster.pid").write_text("not a pid\n")
    try:
        down = cli(stopped, "down")
        assert_one_line(
            down, "down", f"{replica}/postmaster.pid does not start with a pid", hidden=()
        )
        assert down.stdout == f"stopped the embedded PostgreSQL in {pgdata}\n"
        assert postgres_in(pgdata) == []
    finally:
        (replica / "postmaster.pid").unlink()


def test_up_does_not_claim_a_replica_that_does_not_answer(stopped: Path) -> None:
    """A replica that runs but does not answer (its postmaster stopped by SIGSTOP) is
    named with the fix; the old `up` printed its URL because its pid was alive."""
    replica = replica_dir(stopped)
    assert cli(stopped, "up", "--replicas", "1").returncode == 0
    postmaster = PidFile.postgres(replica).server_pid()
    assert postmaster is not None
    os.kill(postmaster, signal.SIGSTOP)
    try:
        result = cli(stopped, "up", "--replicas", "1")
        port = replicas.Node.existing("replica1", replica).port
        assert_one_line(
            result,
            "up",
            f"replica1 of the embedded PostgreSQL ({replica}) does not answer at "
            f"127.0.0.1:{port} (",
            "run `plue-db down`, then `plue-db up --replicas 1`",
            hidden=(),
        )
        assert "PLUE_DB_REPLICA_URLS" not in result.stdout
        assert old_running(replica)  # what the old `up` went by: it printed the URL
    finally:
        os.kill(postmaster, signal.SIGCONT)


def old_running(data_dir: Path) -> bool:
    """The check replicas.Node.running() made before: is the pid alive (``kill -0``)?"""
    pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_negative_control_the_old_checks_take_the_stranger_for_the_replica(
    stopped: Path,
) -> None:
    """The old `up` skipped starting a replica whose pid was alive and printed a URL that
    nothing answers; the old `down` ran ``pg_ctl stop`` on it, which kills the stranger."""
    replica = replica_dir(stopped)
    with strangers.stranger(cwd=replica) as other:
        strangers.write_pid_file(replica / "postmaster.pid", other.pid)
        assert old_running(replica)
        assert PidFile.postgres(replica).server_pid() is None
        url = replicas.Node.existing("replica1", replica).url()
        with pytest.raises(psycopg.OperationalError, match="Connection refused"):
            psycopg.connect(url, connect_timeout=2)
        said = subprocess.run(
            [str(embedded.bin_dir() / "pg_ctl"), "-D", str(replica), "-m", "fast", "-W", "stop"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
            **service_user.process_kwargs(),
        )
        assert said.stdout == "server shutting down\n"
        assert other.wait(timeout=10) == -signal.SIGINT
    (replica / "postmaster.pid").unlink()
