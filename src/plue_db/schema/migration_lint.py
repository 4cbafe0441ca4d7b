"""Migration safety: squawk lints every migration not yet released, as part of ``check``.

Why squawk (the ``squawk-cli`` wheel, PostgreSQL's own parser inside): it knows which
statements take which lock and which rewrite a table, rules this project would otherwise
re-derive. Why only unreleased files: a released migration (listed in migrations.sum)
has run on production and may never change, so a finding there has no fix. Plue's
settings are in .squawk.toml; the runner wraps each file in one transaction, except a
file whose first line is ``-- plue-db: no-transaction``, which squawk is told about per
file. Each finding names ``file:line`` and the fix in Plue's terms (FIXES), not only
squawk's generic help.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from plue_db import config
from plue_db.schema import released
from plue_db.schema.migrate import discover
from plue_db.schema.migration_parse import NO_TRANSACTION

SQUAWK_CONFIG = config.PROJECT_ROOT / ".squawk.toml"

_SEPARATE = "in a file whose first line is `-- plue-db: no-transaction` (docs/migrations.md)"
# Plue's fix for each rule it expects to see; other rules fall back to squawk's help.
FIXES = {
    "require-concurrent-index-creation": "build it as CREATE INDEX CONCURRENTLY " + _SEPARATE,
    "ban-concurrent-index-creation-in-transaction": "move it " + _SEPARATE,
    "adding-required-field": "add the column nullable (or with a constant DEFAULT), "
    "backfill it, then SET NOT NULL in a later migration",
    "changing-column-type": "add a column of the new type, backfill it, move readers and "
    "writers to it, then drop the old one (varchar(n) -> text needs no rewrite)",
    "constraint-missing-not-valid": "ADD the constraint ... NOT VALID, then VALIDATE "
    "CONSTRAINT as a separate statement " + _SEPARATE,
    "adding-foreign-key-constraint": "ADD the foreign key ... NOT VALID, then VALIDATE "
    "CONSTRAINT as a separate statement " + _SEPARATE,
    "require-lock-timeout": "start the file with SET lock_timeout = '5s' so a blocked "
    "statement fails instead of queueing every query on the table behind it",
}


class LintError(Exception):
    """squawk is missing or failed without reporting findings."""


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    line: int  # 1-based
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        shown = (
            self.path.relative_to(Path.cwd()) if self.path.is_relative_to(Path.cwd()) else self.path
        )
        return f"{shown}:{self.line}: {self.rule}: {self.message} Fix: {self.fix}"


def unreleased(
    directory: Path = config.MIGRATIONS_DIR, sum_path: Path = released.SUM_PATH
) -> list[Path]:
    return [m.path for m in released.unreleased(discover(directory), sum_path)]


def lint(paths: list[Path], squawk_config: Path = SQUAWK_CONFIG) -> list[Finding]:
    """squawk's findings for ``paths``, in file and line order."""
    separate = [p for p in paths if p.read_text().startswith(NO_TRANSACTION + "\n")]
    wrapped = [p for p in paths if p not in separate]
    findings = _squawk(wrapped, squawk_config, "--assume-in-transaction")
    findings += _squawk(separate, squawk_config, "--no-assume-in-transaction")
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.rule))


def check_lint(
    directory: Path = config.MIGRATIONS_DIR, sum_path: Path = released.SUM_PATH
) -> list[str]:
    """``check``'s step: one line per finding in an unreleased migration."""
    try:
        return [str(f) for f in lint(unreleased(directory, sum_path))]
    except LintError as exc:
        return [str(exc)]


def _squawk(paths: list[Path], squawk_config: Path, mode: str) -> list[Finding]:
    if not paths:
        return []
    command = [_executable(), "--reporter", "json", "--config", str(squawk_config), mode]
    argv = [*command, *map(str, paths)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv, no shell
    try:
        reported = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise LintError(f"squawk failed (exit {done.returncode}): {done.stderr.strip()}") from None
    by_name = {str(p): p for p in paths}
    return [
        Finding(
            path=by_name.get(item["file"], Path(item["file"])),
            line=item["line"] + 1,  # squawk's JSON lines are 0-based
            rule=item["rule_name"],
            message=item["message"],
            fix=FIXES.get(item["rule_name"]) or item["help"] or "see squawk's rule",
        )
        for item in reported
    ]


def _executable() -> str:
    """squawk next to this Python (the venv's bin), else on PATH."""
    found = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    if found is None:
        raise LintError("squawk is not installed: pip install 'plue-db[codegen]' (squawk-cli)")
    return found
