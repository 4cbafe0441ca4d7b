-- name: RecordEvent :one
INSERT INTO events (payload, raw, extra) VALUES ($1, $2, sqlc.narg(extra)) RETURNING *;

-- name: EventKinds :many
SELECT id, (payload ->> 'kind')::text AS kind FROM events WHERE payload @> sqlc.arg(filter)::jsonb;
