"""Schema changes and the proof they agree with schema.sql.

The migration runner (migrate.py, with migration_parse.py splitting files), drafting
the next migration (migration_draft.py), its squawk lint (migration_lint.py), the
released migrations' checksums (released.py), the local reset (reset.py), the catalog
comparison (catalog.py), ``plue-db check`` over all of it (drift.py) and the schema
picture (picture.py).

May import: the top level, servers/ (where migrations and scratch databases run) and
typecheck/ (the check compares generated/ and runs the type fidelity check). Not mcp/
or demo/, and nothing here is imported by the service runtime at the top level.
"""
