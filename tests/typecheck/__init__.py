"""The type check (plue_db.typecheck): generate, PREPARE fidelity, values as annotated."""
