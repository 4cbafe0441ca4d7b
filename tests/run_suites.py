"""Run the pytest suite against every server we can reach, each run spread over workers.

All of it against the embedded PostgreSQL 16; then, when a server answers at
127.0.0.1:5432 (PostgreSQL 15 on this machine and in CI), what may differ between
servers against it too: the tests marked ``each_server`` (tests/fix_server.py lists
them: types, queries, migrations, errors), chosen with pytest's ``--server-url``. Tests
marked ``own_servers`` start servers of their own and don't depend on the server under
test, so they run in the first run only. Exits non-zero if any run fails or collects no
tests (pytest's own exit code 5).

Each run is spread over WORKERS processes (pytest-xdist). Most of the suite waits on
PostgreSQL, sqlc or a child process, so more workers than the machine's two cores pay
(tests/README.md, "Where the time goes", measures 2, 4 and 6). ``--dist loadgroup``
keeps the own-server tests in one worker, one after another. The embedded server is
started here first, so that the workers find it up instead of racing to start it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from plue_db import servers

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKERS = "4"
PARALLEL = ("-n", WORKERS, "--dist", "loadgroup")


def local_server_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def run(label: str, env: dict[str, str], *options: str) -> int:
    print(f"\n=== pytest against {label} ===", flush=True)
    command = [sys.executable, "-m", "pytest", *PARALLEL, *options, *sys.argv[1:]]
    return subprocess.call(command, env=env)


def main() -> int:
    os.environ.pop("DATABASE_URL", None)  # the first run is the embedded server's
    base = dict(os.environ)
    servers.database_url()  # the embedded server, up before the workers ask for it
    codes = [run("embedded PostgreSQL 16", base)]
    if local_server_answers():
        each = ("-m", "each_server and not own_servers")
        codes.append(run(LOCAL_SERVER, base, "--server-url", LOCAL_SERVER, *each))
    else:
        print("no server at 127.0.0.1:5432; ran against the embedded server only")
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
