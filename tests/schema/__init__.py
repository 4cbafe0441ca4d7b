"""Schema changes (plue_db.schema): migrate, migrations, lint, drafts, drift, picture."""
