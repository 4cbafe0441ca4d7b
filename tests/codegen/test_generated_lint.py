"""Generated code passes ruff's default rules, not only the project's selection.

A service that adds the package to its tree lints it with its own ruff settings, most
often the defaults. The fixtures are generated outside the repository (no ruff config
above them, so the plugin formats with ruff's defaults too) and checked with
``ruff check --isolated``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlc_gen_psycopg_runtime
from sqlc_gen_psycopg import render

from tests.codegen.codegen_support import BIN, EXPECTED, EXPECTED_ERROR, run_sqlc
from tests.paths import GOLDEN

# Between them: every module kind (models, enums, errors, types, aio/ and asyncpg/ with
# its _asyncpg runtime), calls into every helper of sqlc-gen-psycopg-runtime.
FIXTURES = ("kitchen_sink", "asyncpg_target")
RUNTIME = Path(sqlc_gen_psycopg_runtime.__file__).parent


def ruff_defaults(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ruff"), "check", "--isolated", "--output-format", "concise", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def generated(fixture: str, tmp_path: Path) -> Path:
    work = tmp_path / fixture
    shutil.copytree(GOLDEN / fixture, work, ignore=shutil.ignore_patterns(EXPECTED, EXPECTED_ERROR))
    done = run_sqlc(work)
    assert done.returncode == 0, done.stderr
    return work / EXPECTED


@pytest.mark.parametrize("fixture", FIXTURES)
def test_generated_package_passes_ruff_default_rules(fixture: str, tmp_path: Path) -> None:
    done = ruff_defaults(generated(fixture, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_runtime_passes_ruff_default_rules(tmp_path: Path) -> None:
    """What the generated code imports is read as its own: the defaults hold there too
    (checked in a copy, away from this project's ruff configuration)."""
    copy = shutil.copytree(RUNTIME, tmp_path / RUNTIME.name)
    done = ruff_defaults(copy)
    assert done.returncode == 0, done.stdout + done.stderr


def test_stream_enter_returning_its_class_fails_the_default_rules(tmp_path: Path) -> None:
    """Negative control: the streams module as it was (``__enter__`` annotated with the
    class instead of Self) is what PYI034 reports, so the test above can see it."""
    streams = tmp_path / "streams.py"
    shutil.copy(RUNTIME / "streams.py", streams)
    text = streams.read_text()
    old = text.replace(
        "def __enter__(self) -> Self:", "def __enter__(self) -> ServerStream:"
    ).replace("def __aenter__(self) -> Self:", "def __aenter__(self) -> AsyncServerStream:")
    assert old != text
    streams.write_text(old)
    done = ruff_defaults(streams)
    assert done.stdout.count("PYI034") == 2, done.stdout


SOURCE = "import shapes\nimport psycopg\n\nprint(psycopg, shapes)\n"
GROUPED = "import psycopg\n\nimport shapes\n\nprint(psycopg, shapes)\n"  # first-party apart
ONE_GROUP = "import psycopg\nimport shapes\n\nprint(psycopg, shapes)\n"  # as third-party


def test_the_projects_src_modules_sort_as_first_party(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A converter's module in the project's src/ is imported by generated code: it must
    sort as the project's own ruff check sorts it (first-party, its own group), although
    the plugin formats in a temporary folder. Control: the project's config alone, as
    the plugin passed it before, sorts it with psycopg (third-party)."""
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.ruff]\nline-length = 100\n")
    (tmp_path / "src" / "shapes").mkdir(parents=True)
    (tmp_path / "src" / "shapes" / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    assert render.format_sources({"query.py": SOURCE}, "pkg")["query.py"] == GROUPED
    layout = tmp_path / "layout" / "pkg"
    layout.mkdir(parents=True)
    (layout / "query.py").write_text(SOURCE)
    fix = ["check", "--quiet", "--select=I", "--fix", "--config", str(config), "."]
    subprocess.run([str(BIN / "ruff"), *fix], cwd=layout.parent, check=False)
    assert (layout / "query.py").read_text() == ONE_GROUP
