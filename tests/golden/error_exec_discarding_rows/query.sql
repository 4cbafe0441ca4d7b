-- Refused today. Issue 10: :exec on a row-returning statement runs it and drops the rows.
-- name: Ins :exec
INSERT INTO users (name) VALUES ($1) RETURNING id;
