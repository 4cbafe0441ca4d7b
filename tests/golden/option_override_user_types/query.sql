-- name: AddEntry :one
INSERT INTO entries (id, mood, level) VALUES ($1, $2, $3) RETURNING *;
