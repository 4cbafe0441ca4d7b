"""Docs that can't drift: every Python block in README.md, docs/*.md and
codegen/README.md runs here against a real server.

Each block runs in a database of this module's own holding schema.sql and the rows the
docs' examples name (users 1 to 3, the first one "Alice"; repositories 1 to 7), with
``conn`` (a connection, committed after the block), ``dsn`` (the database's URL, also
DATABASE_URL meanwhile) and nothing else given: a block imports what it uses. A block
with top-level ``await`` runs in an event loop. A Python block that is not meant to run
(a sketch for another machine: a pgbouncer host, a multi-host DSN, another project's
script) says so in its fence, ```` ```python no-run ````; every fence names its
language.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest

from tests import factories
from tests.fixtures.fix_db import fresh_database
from tests.paths import ROOT, SCHEMA

DOCS = sorted([ROOT / "README.md", ROOT / "codegen" / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
NO_RUN = "no-run"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    runs: bool
    source: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of one Markdown file, with the line their fence opens on."""
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        words = match["info"].split()
        line = text.count("\n", 0, match.start()) + 1
        language = words[0] if words else ""
        found.append(Block(path, line, language, NO_RUN not in words[1:], match["body"]))
    return found


ALL = [block for path in DOCS for block in blocks(path)]
PYTHON = [block for block in ALL if block.language == "python" and block.runs]


def test_every_fence_names_its_language_and_the_count_of_blocks_run() -> None:
    unnamed = [block.name for block in ALL if not block.language]
    assert unnamed == []
    skipped = [b.name for b in ALL if b.language == "python" and not b.runs]
    print(f"\n{len(PYTHON)} Python blocks run, {len(skipped)} marked no-run: {skipped}")
    assert len(PYTHON) >= 6 and len(skipped) <= 3


def test_a_fence_is_read_with_its_line_and_marker(tmp_path: Path) -> None:
    """Control: the reader sees both blocks, the marker, and the line of each fence."""
    doc = tmp_path / "doc.md"
    doc.write_text("# t\n\n```python\nx = 1\n```\n\ntext\n```python no-run\ny = 2\n```\n")
    assert [(b.line, b.runs, b.source) for b in blocks(doc)] == [
        (3, True, "x = 1\n"),
        (8, False, "y = 2\n"),
    ]


@pytest.fixture(scope="module")
def docs_url(server_url: str) -> Iterator[str]:
    """schema.sql and the rows the examples name, committed."""
    with fresh_database(server_url, SCHEMA) as url:
        with psycopg.connect(url) as conn:
            alice = factories.make_user(conn, username="Alice")
            for _ in range(2):
                factories.make_user(conn)
            for _ in range(7):
                factories.make_repo(conn, owner=alice)
        yield url


def as_url(conninfo: str) -> str:
    """The connection string as a URL (asyncpg takes no libpq keyword strings)."""
    params = {k: v for k, v in psycopg.conninfo.conninfo_to_dict(conninfo).items() if v}
    return f"postgresql://?{urlencode(params)}"


def run(block: Block, namespace: dict[str, Any]) -> None:
    code = compile(block.source, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    awaited = eval(code, namespace)  # the repository's own docs
    if awaited is not None:
        asyncio.run(in_loop(awaited, namespace))


async def in_loop(awaited: Any, namespace: dict[str, Any]) -> None:
    """An async block, and closing the pool it opened in the same event loop."""
    try:
        await awaited
    finally:
        if "pool" in namespace:
            await namespace.pop("pool").close()


@pytest.mark.parametrize("block", PYTHON, ids=[b.name for b in PYTHON])
def test_python_block_runs(block: Block, docs_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", docs_url)
    monkeypatch.delenv("PLUE_DB_REPLICA_URLS", raising=False)
    with psycopg.connect(docs_url) as conn:
        namespace: dict[str, Any] = {"conn": conn, "dsn": as_url(docs_url), "__name__": "docs"}
        try:
            run(block, namespace)
        finally:
            close(namespace)


def close(namespace: dict[str, Any]) -> None:
    """What a block opened and leaves to its reader's program: a pool or router, tracing."""
    for name in ("pool", "router"):
        if name in namespace:
            namespace[name].close()
    instrumentor = namespace.get("PsycopgInstrumentor")
    if instrumentor is not None and instrumentor().is_instrumented_by_opentelemetry:
        instrumentor().uninstrument()
