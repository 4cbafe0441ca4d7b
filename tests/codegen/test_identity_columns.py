"""Identity columns are NOT NULL in the generated code (fixture identity_columns).

PostgreSQL makes a ``GENERATED ... AS IDENTITY`` column NOT NULL however it is declared;
sqlc's catalog kept it nullable, so Hatchet's ``v1_concurrency_slot.sort_id`` was
``int | None`` and the PREPARE check named it. The three ways to declare one are read,
an outer join's nullable side still makes it optional, and a generated column that is
not an identity stays nullable. The control is the manifest as the plugin wrote it
before (the identity columns nullable), which the PREPARE check refuses.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any, get_type_hints

import psycopg
from sqlc_gen_psycopg.analysis import typecheck
from sqlc_gen_psycopg.analysis.scratch import scratch_database
from sqlc_gen_psycopg.schema_info import read_schema

from plue_db.typecheck.runtime_types import Checker
from tests.codegen.test_golden_types import package
from tests.paths import GOLDEN

FIXTURE = GOLDEN / "identity_columns"
MANIFEST = FIXTURE / "expected" / "identity_pkg" / "manifest.json"
IDENTITIES = {"slot.sort_id", "claim.claim_id", "ticket.number", "measure.id"}
PKG = package("identity_columns")


def test_every_form_of_identity_is_read() -> None:
    assert read_schema([FIXTURE / "schema.sql"]).identities == IDENTITIES


def test_models_and_rows_are_not_optional_but_on_an_outer_joins_side() -> None:
    models = importlib.import_module(f"{PKG}.models")
    query = importlib.import_module(f"{PKG}.query")
    assert get_type_hints(models.Slot)["sort_id"] is int
    assert get_type_hints(models.Measure)["doubled"] == int | None
    assert get_type_hints(query.SlotsWithClaimsRow) == {"sort_id": int, "claim_id": int | None}


def test_values_fit_the_annotations_and_postgresql_agrees(server_url: str) -> None:
    query: Any = importlib.import_module(f"{PKG}.query")
    checker = Checker(vars(importlib.import_module(f"{PKG}.types")))
    with (
        scratch_database(server_url, prefix="plue_test", schema=(FIXTURE / "schema.sql",)) as url,
        psycopg.connect(url) as conn,
    ):
        slot = query.add_slot(conn, label="a")
        query.add_slot(conn, label="b")
        claim = query.add_claim(conn, slot_label="a")
        rows = query.slots_with_claims(conn)
        assert [(r.sort_id, r.claim_id) for r in rows] == [(slot.sort_id, claim), (2, None)]
        results = {
            "add_ticket": query.add_ticket(conn, note=None),
            "add_measure": query.add_measure(conn),
            "list_slots": query.list_slots(conn),
            "slots_with_claims": rows,
        }
        for name, value in results.items():
            assert checker.returned(getattr(query, name), value, name) == []
        functions = typecheck.read_manifest(MANIFEST)
        conn.commit()
        conn.autocommit = True
        assert typecheck.check_functions(conn, functions) == []
        # control: the identity columns nullable, as sqlc's catalog had them
        old = [nullable_identities(f) for f in functions]
        assert {p.split(": column ")[1] for p in typecheck.check_functions(conn, old)} >= {
            "sort_id: slot.sort_id is NOT NULL and no outer join can null it, generated int",
            "number: ticket.number is NOT NULL and no outer join can null it, generated int",
        }


def nullable_identities(function: typecheck.GeneratedFunction) -> typecheck.GeneratedFunction:
    """The function as generated before: every identity column's value optional, unless
    it already was (the outer join's)."""
    names = {name.split(".")[1] for name in IDENTITIES}
    columns = tuple(
        dataclasses.replace(c, nullable=True) if c.name in names and not c.nullable else c
        for c in function.columns
    )
    return dataclasses.replace(function, columns=columns)


def test_manifest_lists_identity_columns_not_null() -> None:
    document = json.loads(Path(MANIFEST).read_text())
    list_slots = next(f for f in document["functions"] if f["name"] == "list_slots")
    assert [(c["name"], c["nullable"]) for c in list_slots["columns"]] == [
        ("sort_id", False),
        ("label", False),
    ]
