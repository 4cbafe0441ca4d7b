"""Which reachable PostgreSQL servers have an extension (or xml, a build option): the
embedded 16 lacks hstore, ltree, citext and libxml, Debian's 15 lacks vector. A test of
such a feature runs on every server that has it, skips where it is missing, and fails
under CI=true when no reachable server has it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from plue_db.servers import embedded
from tests.run_suites import LOCAL_SERVER

CREATE_EXTENSION = re.compile(r"CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)


def servers_with(extension: str) -> Iterator[str]:
    """Every reachable server that can CREATE EXTENSION ``extension`` (``xml``: whose
    build has libxml)."""
    candidates = [embedded.start(keep_running=True), LOCAL_SERVER]
    candidates += [os.environ["DATABASE_URL"]] if os.environ.get("DATABASE_URL") else []
    for url in dict.fromkeys(candidates):
        if has_extension(url, extension):
            yield url


def has_extension(url: str, extension: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            if extension == "xml":
                return conn.execute("SELECT xml_is_well_formed('<a/>')").fetchone() is not None
            found = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = %s", (extension,)
            ).fetchone()
            return found is not None
    except psycopg.errors.FeatureNotSupported:
        return False  # xml on a server built without libxml
    except psycopg.OperationalError:
        return False


def extensions_of(schema: Path) -> list[str]:
    """The extensions a schema file creates."""
    return CREATE_EXTENSION.findall(schema.read_text())


def skip_without(extension: str, server_url: str) -> None:
    """Skip unless ``server_url`` has ``extension``; fail under CI=true when no
    reachable server has it (then nothing would ever test it)."""
    if has_extension(server_url, extension):
        return
    elsewhere = list(servers_with(extension))
    if not elsewhere and os.environ.get("CI") == "true":
        pytest.fail(f"no reachable server has {extension}")
    where = f"; it runs on {', '.join(elsewhere)}" if elsewhere else ""
    pytest.skip(f"this server lacks {extension}{where}")
