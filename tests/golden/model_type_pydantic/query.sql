-- name: AddNote :one
INSERT INTO notes (body, feeling, feelings, doc, extra, tags, amount, at, span, addr, location)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *;

-- name: ListNotes :many
SELECT * FROM notes ORDER BY id;

-- name: NoteSummaries :many
-- A Row class: some columns, one computed.
SELECT id, feeling, doc, tags, location, length(body)::integer AS size FROM notes ORDER BY id;

-- name: NoteFeelings :many
-- A Row class whose columns pass through as psycopg returns them but the enum.
SELECT feeling, feelings FROM notes ORDER BY id;
