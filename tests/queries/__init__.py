"""Plue's queries (queries/*.sql) on a real server: results, races, plans, read-only marking."""
