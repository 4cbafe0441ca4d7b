-- One author by id, or None.
-- name: GetAuthor :one
SELECT * FROM authors WHERE id = $1;

-- An INSERT of one row with RETURNING always returns it: no `| None`.
-- name: CreateAuthor :one
INSERT INTO authors (name, bio) VALUES ($1, $2) RETURNING *;

-- A single column comes back bare.
-- name: GetAuthorName :one
SELECT name FROM authors WHERE id = $1;
