"""bench.real_apps' PREPARE cell counts every problem the check finds.

The cell used to be the first two lines of ``sqlc-gen-psycopg-db check``'s output when
it failed, so bench/README's rows were counted by hand, and River's two parameter
findings went unrecorded behind "(+15 more lines)". A static project with one query
PostgreSQL rejects, one note (sqlc's int4 for LIMIT's int8) and one wrong base type in
its manifest gets all three counted. The control is the old cell, which names neither
the counts nor the finding after the first.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlc_gen_psycopg.analysis.typecheck import check_project

from bench.real_apps import first_lines, prepare_cell, run
from tests.codegen.codegen_support import BIN, run_sqlc, sqlc_config

SCHEMA = "CREATE TABLE t (id int8 PRIMARY KEY, label text NOT NULL);\n"
QUERIES = """-- name: Page :many
SELECT id FROM t ORDER BY id LIMIT $1;

-- name: Missing :one
SELECT 'no_such_table'::regclass::oid AS relid;

-- name: Words :many
SELECT label FROM t ORDER BY id;
"""


def test_the_cell_counts_rejections_findings_and_notes(tmp_path: Path, server_url: str) -> None:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "query.sql").write_text(QUERIES)
    config = tmp_path / "sqlc.yaml"
    config.write_text(sqlc_config("query.sql", "out/prep", "{package: prep}"))
    done = run_sqlc(tmp_path)
    assert done.returncode == 0, done.stderr
    # a manifest that lies about one column's type: the check's own kind of finding
    manifest = tmp_path / "out" / "prep" / "manifest.json"
    document = json.loads(manifest.read_text())
    (words,) = [f for f in document["functions"] if f["name"] == "words"]
    words["columns"][0]["type"]["base"] = "int4"
    manifest.write_text(json.dumps(document))

    cell = prepare_cell(check_project(config, server_url))
    assert cell == (
        "1 rejected, 1 other: query.words: column label: PostgreSQL type text, generated"
        " str from int4 (1 notes)"
    )
    assert prepare_cell([]) == "ok"
    # control: the old cell, the check's text cut to two lines
    command = [str(BIN / "sqlc-gen-psycopg-db"), "check", "--database-url", server_url]
    code, output = run(command, tmp_path)
    old = first_lines(output, 2)
    assert code == 1 and old.startswith("FAIL")
    assert "rejected" not in old and "query.words" not in old
    assert "query.words: column label" in output  # there, on a later line
