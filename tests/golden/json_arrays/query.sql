-- name: AddEvents :many
INSERT INTO events (payload) SELECT a FROM unnest(@args::jsonb[]) AS a RETURNING id;

-- name: SetTags :exec
UPDATE events SET tags = $1 WHERE id = $2;

-- name: GetEvent :one
SELECT * FROM events WHERE id = $1;
