"""The unprivileged user server processes run as when we are root.

postgres, pgbouncer, etcd and Patroni refuse to run as root (or should not). As root,
plue-db runs them as the system user ``pgserver``, the one the pgserver wheel creates
and runs the embedded PostgreSQL as; as anyone else, as that user.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

USER = "pgserver"


def name() -> str | None:
    """The user to run servers as, or None to run them as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed argv, no shell; as pgserver does it
            ["/usr/sbin/useradd", "--system", "-s", "/bin/bash", USER], check=True
        )
    return USER


def process_kwargs() -> dict[str, Any]:
    """``subprocess`` keyword arguments that drop to the server user, groups included
    (``user=`` alone keeps root's group, and with it root's group permissions)."""
    user = name()
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def hand_over(path: Path) -> None:
    """Give ``path`` (and everything under it) to the server user and let it reach it."""
    user = name()
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for item in [root, *(os.path.join(root, d) for d in dirs)]:
            os.chown(item, entry.pw_uid, entry.pw_gid)
        for item in files:
            os.chown(os.path.join(root, item), entry.pw_uid, entry.pw_gid)
    for parent in path.resolve().parents:
        parent.chmod(parent.stat().st_mode | 0o005)


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a server process we started: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
