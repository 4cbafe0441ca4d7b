"""Fixes found by running sqlc's end-to-end corpus through the plugin (bench/sqlc_corpus.py),
each on a fixture of our own shaped like the case, run on a server, with the old code
path as its negative control."""

from __future__ import annotations

import psycopg
import pytest
from sqlc_gen_psycopg import naming
from sqlc_gen_psycopg.errors import GenerationError

from tests.codegen.test_golden_real_apps import golden
from tests.fixtures.fix_db import fresh_database
from tests.paths import GOLDEN


def test_a_view_column_without_a_name_gets_one_by_position(server_url: str) -> None:
    """refreshmatview: the model of a materialized view over SELECT 1 names that column
    column_1 and loads the view's rows."""
    models = golden("matview_unnamed_column", "models")
    query = golden("matview_unnamed_column", "query")
    schema = GOLDEN / "matview_unnamed_column" / "schema.sql"
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        conn.execute("INSERT INTO scores VALUES (1, 5), (2, 7)")
        query.refresh_totals(conn)
        row = conn.execute("SELECT * FROM score_totals").fetchone()
        assert row is not None
        assert models.load_score_total(row) == models.ScoreTotal(column_1=1, total=12)
    # control: the old model took the column's name as sqlc gives it, and refused
    with pytest.raises(GenerationError, match="cannot make a Python name from ''"):
        naming.identifier("", "schema: column score_totals.", naming.ANNOTATION_BUILTINS)
