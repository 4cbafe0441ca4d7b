-- name: ReadOnlyFunctions :many
SELECT id, body FROM notes ORDER BY id;

-- name: E :one
SELECT body FROM notes WHERE id = $1;

-- name: AddNote :exec
INSERT INTO notes (body) VALUES ($1);
