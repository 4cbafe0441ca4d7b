"""Views over ``JOIN ... USING`` and ``NATURAL JOIN`` have PostgreSQL's columns (issue 18).

PostgreSQL gives a merged column once, first; sqlc's catalog lists it twice, and sqlc
expands ``SELECT * FROM v`` into that list. The plugin takes the view's columns from its
definition (view_columns.py): each model's fields are what ``SELECT * FROM v`` returns on
the server, in order, and every function over the views (``*``, ``v.*``, ``sqlc.embed``,
a view over such a view) returns values of their annotations, in static and in
database-backed mode, and passes the PREPARE check. The control is sqlc's own list, from
the request it sends any plugin: no dataclass can hold it, and the query sqlc expanded
from it returns more columns than the view has, which a model of the view refuses.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import psycopg
import pytest

from tests.codegen.codegen_support import BIN, run_sqlc, sqlc_config
from tests.fixtures.fix_db import fresh_database

SCHEMA = """CREATE TABLE a (x text NOT NULL, id int NOT NULL, k int NOT NULL);
CREATE TABLE b (id int NOT NULL, k int NOT NULL, y text);
CREATE TABLE c (id int NOT NULL, z text NOT NULL);
CREATE VIEW v AS SELECT * FROM a JOIN b USING (id, k);
CREATE VIEW vk AS SELECT * FROM a JOIN b USING (k, id);
CREATE VIEW n AS SELECT * FROM a NATURAL JOIN b;
CREATE VIEW lc AS SELECT * FROM a LEFT JOIN c USING (id);
CREATE VIEW rc AS SELECT * FROM c RIGHT JOIN a USING (id);
CREATE VIEW w AS SELECT * FROM v;
"""
QUERIES = """-- name: ListV :many
SELECT * FROM v ORDER BY id;

-- name: ListVk :many
SELECT * FROM vk ORDER BY id;

-- name: ListN :many
SELECT * FROM n ORDER BY id;

-- name: ListLc :many
SELECT * FROM lc ORDER BY id;

-- name: ListRc :many
SELECT * FROM rc ORDER BY id;

-- name: ListW :many
SELECT * FROM w ORDER BY id;

-- name: Embedded :many
SELECT sqlc.embed(v), c.z FROM v JOIN c ON c.id = v.id ORDER BY v.id;

-- name: StarAndMore :many
SELECT v.*, c.z FROM v JOIN c ON c.id = v.id ORDER BY v.id;

-- name: Picked :many
SELECT x, y FROM v ORDER BY x;

-- name: Accented :many
SELECT 'café' AS label, * FROM v ORDER BY id;
"""
SEED = """INSERT INTO a VALUES ('one', 1, 10), ('two', 2, 20), ('three', 3, 30);
INSERT INTO b VALUES (1, 10, 'b1'), (2, 20, NULL), (3, 99, 'b3');
INSERT INTO c VALUES (1, 'c1');
"""
# view -> (model, its columns as PostgreSQL gives them)
VIEWS = {
    "v": ("V", ["id", "k", "x", "y"]),
    "vk": ("Vk", ["k", "id", "x", "y"]),  # sqlc lists it as v: the query says which
    "n": ("N", ["id", "k", "x", "y"]),
    "lc": ("Lc", ["id", "x", "k", "z"]),
    "rc": ("Rc", ["id", "z", "x", "k"]),
    "w": ("W", ["id", "k", "x", "y"]),
}
MODES = ("static", "database")


@pytest.fixture(scope="module")
def seeded_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    schema = tmp_path_factory.mktemp("schema") / "schema.sql"
    schema.write_text(SCHEMA)
    with fresh_database(server_url, schema) as url, psycopg.connect(url) as conn:
        conn.execute(SEED)
        conn.commit()
        yield url


def project(root: Path, package: str, database: str = "", plugin: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "schema.sql").write_text(SCHEMA)
    (root / "query.sql").write_text(QUERIES)
    options = f"{{package: {package}, emit_async: false}}"
    config = sqlc_config("query.sql", f"out/{package}", options, database)
    if plugin:
        config = config.replace("cmd: sqlc-gen-psycopg", f"cmd: {plugin}")
    (root / "sqlc.yaml").write_text(config)
    return root


@pytest.fixture(scope="module", params=MODES)
def generated(
    request: pytest.FixtureRequest, server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, types.ModuleType, types.ModuleType]]:
    """(project, models, query module) generated in each analysis mode."""
    mode = request.param
    package = f"using_views_{mode}"
    root = tmp_path_factory.mktemp(mode) / "project"
    with fresh_database(server_url) as scratch:
        if mode == "database":
            with psycopg.connect(scratch, autocommit=True) as conn:
                conn.execute(SCHEMA)
        work = project(root, package, scratch if mode == "database" else "")
        done = run_sqlc(work)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(work / "out"))
    try:
        models = importlib.import_module(f"{package}.models")
        query = importlib.import_module(f"{package}.query")
        yield work, models, query
    finally:
        sys.path.remove(str(work / "out"))
        for name in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[name]


def fits(value: object, annotation: Any) -> bool:
    if isinstance(annotation, types.UnionType):
        return any(fits(value, a) for a in annotation.__args__)
    return value is None if annotation is type(None) else isinstance(value, annotation)


def check_row(row: object) -> None:
    """Every field of a generated row (nested models too) fits its annotation."""
    for name, annotation in get_type_hints(type(row)).items():
        value = getattr(row, name)
        if dataclasses.is_dataclass(value):
            check_row(value)
        assert fits(value, annotation), (type(row).__name__, name, value, annotation)


def test_models_are_the_views_postgresql_columns(
    generated: tuple[Path, types.ModuleType, types.ModuleType], seeded_url: str
) -> None:
    _, models, _ = generated
    with psycopg.connect(seeded_url) as conn:
        for view, (model, columns) in VIEWS.items():
            cur = conn.execute(f"SELECT * FROM {view}")
            assert [d.name for d in cur.description or ()] == columns, view
            fields = [f.name for f in dataclasses.fields(getattr(models, model))]
            assert fields == columns, model
            for row in cur.fetchall():  # the model's own decoder on the server's rows
                check_row(getattr(models, f"load_{view}")(row))


def test_functions_over_the_views_return_their_annotations(
    generated: tuple[Path, types.ModuleType, types.ModuleType], seeded_url: str
) -> None:
    _, models, query = generated
    with psycopg.connect(seeded_url) as conn:
        results = {
            name: getattr(query, name)(conn)
            for name in ("list_v", "list_vk", "list_n", "list_lc", "list_rc", "list_w", "embedded",
                         "star_and_more", "picked", "accented")
        }  # fmt: skip
    for rows in results.values():
        assert rows
        for row in rows:
            check_row(row)
    assert results["list_v"] == [models.V(1, 10, "one", "b1"), models.V(2, 20, "two", None)]
    assert results["list_vk"] == [models.Vk(10, 1, "one", "b1"), models.Vk(20, 2, "two", None)]
    assert results["list_w"] == [models.W(1, 10, "one", "b1"), models.W(2, 20, "two", None)]
    assert [r.z for r in results["list_lc"]] == ["c1", None, None]
    assert [(r.id, r.z) for r in results["list_rc"]] == [(1, "c1"), (2, None), (3, None)]
    (embedded,) = results["embedded"]
    assert (embedded.v, embedded.z) == (models.V(1, 10, "one", "b1"), "c1")
    (star,) = results["star_and_more"]
    assert (star.id, star.k, star.x, star.y, star.z) == (1, 10, "one", "b1", "c1")
    accented = results["accented"][0]  # characters before the rewritten list count once
    assert dataclasses.astuple(accented) == ("café", 1, 10, "one", "b1")


def test_the_prepare_check_agrees(
    generated: tuple[Path, types.ModuleType, types.ModuleType], server_url: str
) -> None:
    work, _, _ = generated
    done = subprocess.run(
        [str(BIN / "sqlc-gen-psycopg-db"), "check", "--database-url", server_url],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_control_sqlc_lists_the_merged_columns_twice(tmp_path: Path, seeded_url: str) -> None:
    """sqlc's catalog and its expansion of ``SELECT * FROM v``, from the request it
    sends a plugin: the model built from them can't be defined, and the row the
    expanded query returns doesn't fit the view's real columns."""
    dump = tmp_path / "request.json"
    plugin = tmp_path / "dump_request"
    plugin.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"pathlib.Path({str(dump)!r}).write_bytes(sys.stdin.buffer.read())\nprint('{{}}')\n"
    )
    plugin.chmod(0o755)
    done = run_sqlc(project(tmp_path / "project", "control", plugin=str(plugin)))
    assert done.returncode == 0, done.stderr
    sent = json.loads(dump.read_text())
    (public,) = [s for s in sent["catalog"]["schemas"] if s["name"] == "public"]
    listed = {t["rel"]["name"]: [c["name"] for c in t["columns"]] for t in public["tables"]}
    assert listed["v"] == ["x", "id", "k", "id", "k", "y"]
    assert listed["lc"] == ["x", "id", "k", "id", "z"]
    with pytest.raises(TypeError, match="duplicate"):
        dataclasses.make_dataclass("V", listed["v"])
    (list_v,) = [q for q in sent["queries"] if q["name"] == "ListV"]
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(list_v["text"]).fetchone()
    assert row is not None and len(row) == len(listed["v"]) != len(VIEWS["v"][1])
    model = dataclasses.make_dataclass("V", VIEWS["v"][1])
    with pytest.raises(TypeError):
        model(*row)
