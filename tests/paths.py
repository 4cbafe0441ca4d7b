"""Where the tests find the project: its root, schema.sql and the golden fixtures."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema.sql"
GOLDEN = ROOT / "tests" / "golden"
