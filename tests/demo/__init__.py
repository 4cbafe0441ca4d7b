"""``plue-db demo`` (plue_db.demo) end to end, and what it leaves in the database."""
