"""What ``plue-db generate`` says it did: one summary line (files written, changed,
unchanged, removed; time), ``--check`` (names the stale files, writes nothing, exit 1),
``--watch`` (a run per change of an input, until Ctrl-C), and ``--version`` on every
command."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plue_db.typecheck.generate import compare, fresh_output, generate
from tests.cli.test_cli_errors import assert_one_line, plue_db
from tests.typecheck.test_generate import project

GET = "-- name: GetNote :one\nSELECT id, body FROM note WHERE id = $1;\n"
COUNT = "-- name: CountNotes :one\nSELECT count(*) FROM note;\n"
SUMMARY = re.compile(
    r"generate: (\d+) files? written \((\d+) new, (\d+) changed\), (\d+) removed, "
    r"(\d+) unchanged in \d+\.\d s"
)


def said(capsys: pytest.CaptureFixture[str]) -> tuple[int, ...]:
    """The counts of the one line generate printed."""
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    found = SUMMARY.fullmatch(out.strip())
    assert found, out
    return tuple(int(n) for n in found.groups())


def test_generate_says_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, GET)
    assert generate(root) == 0
    written, new, changed, removed, unchanged = said(capsys)
    total = len(fresh_output(root))
    assert (written, new, changed, removed, unchanged) == (total, total, 0, 0, 0)

    assert generate(root) == 0
    assert said(capsys) == (0, 0, 0, 0, total)

    (root / "queries" / "extra.sql").write_text(COUNT)
    assert generate(root) == 0
    written, new, changed, removed, unchanged = said(capsys)
    assert new == 2  # extra.py and aio/extra.py
    assert changed >= 2 and written == new + changed  # __init__.py, manifest.json ...
    assert unchanged == total - changed and removed == 0

    (root / "queries" / "extra.sql").unlink()
    assert generate(root) == 0
    assert said(capsys)[3] == 2


def test_check_names_the_stale_files_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, GET)
    assert generate(root) == 0
    capsys.readouterr()
    assert generate(root, check=True) == 0
    total = len(fresh_output(root))
    assert re.fullmatch(
        rf"generate --check: all {total} generated files are current \(\d+\.\d s\)\n",
        capsys.readouterr().out,
    )

    notes = root / "out" / "tiny" / "notes.py"
    edited = notes.read_text() + "# edited by hand\n"
    notes.write_text(edited)
    (root / "queries" / "extra.sql").write_text(COUNT)
    before = {p: p.read_text() for p in (root / "out").rglob("*") if p.is_file()}
    assert generate(root, check=True) == 1
    line = capsys.readouterr().out
    stale = sorted(str(p) for p in compare(root, fresh_output(root)).stale)
    assert "out/tiny/notes.py" in stale and "out/tiny/extra.py" in stale
    assert line == (
        f"generate --check: {len(stale)} generated files are stale: {', '.join(stale)};"
        f" run `plue-db generate` ({line.rsplit('(', 1)[1].strip()}\n"
    )
    assert {p: p.read_text() for p in (root / "out").rglob("*") if p.is_file()} == before

    # Control: what --check sees is what generate then writes.
    assert generate(root) == 0
    assert said(capsys)[0] == len(stale)
    assert generate(root, check=True) == 0


def test_check_names_a_file_to_be_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, GET)
    (root / "queries" / "extra.sql").write_text(COUNT)
    assert generate(root) == 0
    (root / "queries" / "extra.sql").unlink()
    capsys.readouterr()
    assert generate(root, check=True) == 1
    out = capsys.readouterr().out
    assert "out/tiny/extra.py (to be removed)" in out
    assert (root / "out" / "tiny" / "extra.py").exists()


WATCH = "import sys; from pathlib import Path; from plue_db.typecheck.generate import watch; "
WATCH += "sys.exit(watch(Path(sys.argv[1]), interval=0.1))"


def next_line(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line and time.monotonic() < deadline, "generate --watch printed nothing"
    return line.rstrip("\n")


def test_watch_regenerates_when_a_query_file_changes(tmp_path: Path) -> None:
    root = project(tmp_path, GET)
    process = subprocess.Popen(
        [sys.executable, "-c", WATCH, str(root)], stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    try:
        assert next_line(process, deadline).startswith("generate --watch: watching ")
        assert SUMMARY.fullmatch(next_line(process, deadline))
        (root / "queries" / "extra.sql").write_text(COUNT)
        second = SUMMARY.fullmatch(next_line(process, deadline))
        assert second and second[2] == "2"  # extra.py and aio/extra.py are new
        (root / "queries" / "extra.sql").write_text(COUNT.replace("count(*)", "count(nope)"))
        error = next_line(process, deadline)
        assert error.startswith("generate: error: ") and "queries/extra.sql:2" in error, error
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert out == "generate --watch: stopped after 3 runs\n"
    assert (root / "out" / "tiny" / "extra.py").exists()


def test_version_of_every_command() -> None:
    from importlib.metadata import version

    done = plue_db("--version", env={})
    assert (done.returncode, done.stdout) == (0, f"plue-db {version('plue-db')}\n")
    plugin = Path(sys.executable).with_name("sqlc-gen-psycopg")
    done = subprocess.run(
        [plugin, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stdout) == (
        0,
        f"sqlc-gen-psycopg {version('sqlc-gen-psycopg')}\n",
    )
    analysis = Path(sys.executable).with_name("sqlc-gen-psycopg-db")
    done = subprocess.run(
        [analysis, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stdout) == (
        0,
        f"sqlc-gen-psycopg-db {version('sqlc-gen-psycopg')}\n",
    )


def test_a_negative_replica_count_is_refused_in_one_line() -> None:
    done = plue_db("up", "--replicas", "-1", env={"DATABASE_URL": None})
    assert_one_line(
        done, "up", "--replicas takes a number of replicas, 0 or more; got -1", hidden=()
    )
    assert done.stdout == ""


def test_demo_help_names_the_database_it_writes() -> None:
    """The old help said "on the embedded database" while the demo migrated and wrote
    into DATABASE_URL's database when that was set."""
    done = plue_db("demo", "--help", env={})
    assert "writing demo rows into DATABASE_URL's database if set" in " ".join(done.stdout.split())
    assert "on the embedded database" not in done.stdout
