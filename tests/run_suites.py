"""Run the whole pytest suite against every server we can reach.

Always against the embedded PostgreSQL 16; then, when a server answers at
127.0.0.1:5432 (PostgreSQL 15 on this machine and in CI), against it too, chosen with
pytest's ``--server-url`` (tests/fix_server.py). Tests marked ``own_servers`` start
servers of their own (replicas, Patroni) and don't depend on the server under test, so
the second run leaves them out. Exits non-zero if any run fails or collects no tests
(pytest's own exit code 5).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_server_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def run(label: str, env: dict[str, str], *options: str) -> int:
    print(f"\n=== pytest against {label} ===", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *options, *sys.argv[1:]], env=env)


def main() -> int:
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    codes = [run("embedded PostgreSQL 16", base)]
    if local_server_answers():
        codes.append(run(LOCAL_SERVER, base, "--server-url", LOCAL_SERVER, "-m", "not own_servers"))
    else:
        print("no server at 127.0.0.1:5432; ran against the embedded server only")
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
