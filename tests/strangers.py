"""A live process that is not a server, for the stale pid file tests.

After a crash and a reboot, a server's pid file can name any process. The stranger
runs as the user the servers run as (``pgserver`` when we are root), so ``pg_ctl stop``
or a kill by the servers' user could signal it: exactly what the tests must not see.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plue_db.servers import service_user

# A shell started in the background inherits SIGINT and SIGQUIT ignored (pg_ctl's fast
# and immediate stops), and so would a plain `sleep`: the stranger restores the
# defaults, and says so before it can be signalled.
SCRIPT = (
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL);"
    " signal.signal(signal.SIGQUIT, signal.SIG_DFL);"
    " print('ready', flush=True); time.sleep(300)"
)
SYSTEM_PYTHON = "/usr/bin/python3"  # the venv's lives under /root, out of pgserver's reach


@contextmanager
def stranger(cwd: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A live python process of the servers' user (in ``cwd``), killed afterwards."""
    process = subprocess.Popen(
        [SYSTEM_PYTHON, "-c", SCRIPT],
        **service_user.process_kwargs(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        cwd=cwd or "/",
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        yield process
    finally:
        process.kill()
        process.wait()


def write_pid_file(path: Path, pid: int) -> None:
    """A pid file as the server's user would have left it (postmaster.pid: pid, data dir)."""
    path.write_text(f"{pid}\n{path.parent}\n")
    user = service_user.name()
    if user is not None:
        shutil.chown(path, user)
