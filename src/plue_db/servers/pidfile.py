"""Whether the process a server's pid file names is that server: the one guard.

A pid file outlives its server. After a crash or a reboot its pid can belong to any
other process: ``kill -0`` then says "running", ``pg_ctl stop`` signals the stranger,
and pgbouncer refuses to start. Every server plue-db starts or stops (the embedded
primary, its replicas, pgbouncer, the Patroni fixture's nodes) asks this instead: the
process must be the server's program running in the server's directory (postgres
changes into its data directory; pgbouncer is started in its own). A file naming
anything else is stale: it may be removed, as PostgreSQL removes a lock file whose
process is gone, and the process it names is never signalled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PidFileError(Exception):
    """A pid file holds no pid; names the file."""


@dataclass(frozen=True)
class PidFile:
    """A server's pid file, and how to tell that server from a process reusing its pid."""

    path: Path
    program: str  # the server's executable name, as the kernel reports it
    home: Path  # the directory the server runs in

    @classmethod
    def postgres(cls, data_dir: Path) -> PidFile:
        return cls(data_dir / "postmaster.pid", "postgres", data_dir)

    def pid(self) -> int | None:
        """The pid the file names, None without a file; PidFileError if it names none."""
        try:
            first = self.path.read_text().split("\n", 1)[0].strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not (first.isascii() and first.isdigit()):  # int() reads any Unicode digit
            raise PidFileError(
                f"{self.path} does not start with a pid; remove it if no server runs"
            )
        return int(first)

    def server_pid(self) -> int | None:
        """The running server's pid; None if there is no file or it is stale."""
        pid = self.pid()
        return pid if pid is not None and self._is_server(pid) else None

    def clear_stale(self) -> int | None:
        """Remove the file if it names no running server; the pid it named, if removed."""
        pid = self.pid()
        if pid is None or self._is_server(pid):
            return None
        self.path.unlink(missing_ok=True)
        return pid

    def before_start(self, what: str) -> str | None:
        """clear_stale before starting ``what``: the line saying so, None if nothing was."""
        pid = self.clear_stale()
        return None if pid is None else f"{what} was not running; {self._cleared(pid)}"

    def before_stop(self, what: str) -> str | None:
        """clear_stale before stopping ``what``: the line saying why there is nothing to
        stop (a stale file removed, or no file), None if the server runs."""
        pid = self.clear_stale()
        if pid is not None:
            return f"{what} is not running; {self._cleared(pid)}"
        return f"{what} is not running" if self.pid() is None else None

    def _cleared(self, pid: int) -> str:
        return (
            f"removed its stale {self.path.name} (pid {pid} is not this server, and was left alone)"
        )

    def _is_server(self, pid: int) -> bool:
        import psutil  # the embedded extra, which every server plue-db runs needs

        try:
            process = psutil.Process(pid)
            if process.name() != self.program:  # readable for any user's process
                return False
            return Path(process.cwd()).resolve() == self.home.resolve()
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True  # another user's server: we could not signal it either way
