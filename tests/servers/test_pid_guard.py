"""The one pid file guard (plue_db.servers.pidfile) for every server plue-db runs but the CLI's.

The embedded primary and its replicas are covered through `plue-db up`/`down`
(tests/cli/test_cli_replicas.py, tests/cli/test_cli_errors.py). Here: pgbouncer, which counts
as started only once its pid file names it (a bare connect took whatever else listened
on its port for it: a pgbouncer slow to start was handed out, then failed to bind),
and the Patroni fixture's crash of a node's PostgreSQL, which ran ``pg_ctl stop -m
immediate`` whenever a postmaster.pid existed. Each has its negative control: the old
check, run on the same state, is fooled.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from psycopg.conninfo import conninfo_to_dict

from plue_db.servers import pgbouncer, replicas, service_user
from plue_db.servers.pidfile import PidFile, PidFileError
from tests import strangers
from tests.servers import patroni_cluster


def test_pgbouncer_is_found_by_its_pid_file(server_url: str) -> None:
    with pgbouncer.running(server_url) as bouncer:
        home = bouncer.log.parent
        pid = PidFile(home / "pgbouncer.pid", "pgbouncer", home).server_pid()
        assert pid is not None
        assert psutil.Process(pid).name() == "pgbouncer"
        assert PidFile.postgres(home).server_pid() is None  # not a postgres of that dir


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process listens on (not pgbouncer)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_pgbouncer_that_cannot_listen_is_not_claimed(
    server_url: str, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the free port chosen is taken before pgbouncer binds it, pgbouncer exits and
    the error says why; the listener that holds the port is never taken for it."""
    monkeypatch.setattr(replicas, "free_port", lambda: taken_port)
    with pytest.raises(pgbouncer.PgbouncerError) as refused, pgbouncer.running(server_url):
        pytest.fail("claimed a pgbouncer that does not listen")
    assert str(refused.value) == (
        "pgbouncer exited with status 1 at start: WARNING cannot listen on "
        f"127.0.0.1:{taken_port}: bind(): Address already in use; FATAL nowhere to listen on"
    )


@pytest.fixture
def slow_bouncer(
    server_url: str, taken_port: int
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """pgbouncer set up for the taken port, starting half a second late (a busy machine)."""
    with tempfile.TemporaryDirectory(prefix="plue_slow_bouncer_") as name:
        workdir = Path(name)
        server = conninfo_to_dict(server_url)
        pgbouncer._write_config(workdir, server, taken_port, "transaction", 1)
        service_user.hand_over(workdir)
        executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        process = subprocess.Popen(
            ["/bin/sh", "-c", 'sleep 0.5; exec "$0" "$1"', executable, f"{workdir}/pgbouncer.ini"],
            **service_user.process_kwargs(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
        )
        try:
            yield process, workdir
        finally:
            service_user.stop(process, timeout=5)


def test_a_slow_pgbouncer_is_not_claimed_before_it_listens(
    slow_bouncer: tuple[subprocess.Popen[bytes], Path], taken_port: int
) -> None:
    process, workdir = slow_bouncer
    guard = PidFile(workdir / "pgbouncer.pid", "pgbouncer", workdir)
    with pytest.raises(pgbouncer.PgbouncerError, match="bind\\(\\): Address already in use"):
        pgbouncer._wait_listening(process, guard, taken_port, workdir / "pgbouncer.log")


def old_wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    """pgbouncer._wait_listening before the guard: alive and something accepts on the port."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise pgbouncer.PgbouncerError(f"pgbouncer exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise pgbouncer.PgbouncerError(f"pgbouncer did not listen on 127.0.0.1:{port} within 5 s")


def test_negative_control_the_old_wait_claims_the_port_holder(
    slow_bouncer: tuple[subprocess.Popen[bytes], Path], taken_port: int
) -> None:
    """The old check returned, handing out a pgbouncer that then failed to listen."""
    process, _ = slow_bouncer
    old_wait_listening(process, taken_port)
    assert process.wait(timeout=10) == 1


@pytest.fixture
def stale_pg15_dir() -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A Patroni-like data directory whose postmaster.pid names a live stranger."""
    with tempfile.TemporaryDirectory(prefix="plue_patroni_stale_") as name:
        data_dir = Path(name)
        service_user.hand_over(data_dir)
        with strangers.stranger(cwd=data_dir) as other:
            (data_dir / "PG_VERSION").write_text("15\n")
            strangers.write_pid_file(data_dir / "postmaster.pid", other.pid)
            service_user.hand_over(data_dir)
            yield data_dir, other


def test_patroni_crash_leaves_a_stranger_alone(
    stale_pg15_dir: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    data_dir, other = stale_pg15_dir
    patroni_cluster._crash_postgres(data_dir)
    assert other.poll() is None


def test_negative_control_the_old_crash_kills_the_stranger(
    stale_pg15_dir: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    """What the Patroni fixture ran whenever a postmaster.pid existed."""
    data_dir, other = stale_pg15_dir
    assert (data_dir / "postmaster.pid").exists()
    subprocess.run(
        [
            str(patroni_cluster.PG_BIN / "pg_ctl"),
            "-D",
            str(data_dir),
            "-m",
            "immediate",
            "-W",
            "stop",
        ],
        **service_user.process_kwargs(),
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert other.wait(timeout=10) == -signal.SIGQUIT


@pytest.mark.parametrize(
    "text", ["not a pid\n", "\n", "\u0663\u0661\n"], ids=["words", "empty", "arabic"]
)
def test_a_pid_file_without_an_ascii_pid_is_named_and_kept(tmp_path: Path, text: str) -> None:
    (tmp_path / "postmaster.pid").write_text(text)
    guard = PidFile.postgres(tmp_path)
    for look in (guard.server_pid, guard.clear_stale):
        with pytest.raises(PidFileError, match=r"postmaster\.pid does not start with a pid"):
            look()
    assert (tmp_path / "postmaster.pid").read_text() == text


def test_negative_control_int_reads_arabic_indic_digits_as_a_pid() -> None:
    """str.isdigit() then int(), without isascii(), took ٣١ for pid 31."""
    assert "\u0663\u0661".isdigit() and int("\u0663\u0661") == 31


def test_a_pid_file_naming_a_finished_process_is_stale(tmp_path: Path) -> None:
    with strangers.stranger() as other:
        pid = other.pid
    strangers.write_pid_file(tmp_path / "postmaster.pid", pid)
    guard = PidFile.postgres(tmp_path)
    assert guard.server_pid() is None
    assert guard.clear_stale() == pid
    assert not (tmp_path / "postmaster.pid").exists()
