-- docstrings: google (with emit_asyncpg): each function's docstring gets Args (PostgreSQL
-- type, the column a parameter meets, None for NULL), Returns (None when no row matches)
-- and Raises (NoRowError, ReadOnlyConnectionError, ParameterValueError, the constraint
-- classes) sections; the SQL stays in the constants.

-- name: CreateAuthor :one
INSERT INTO authors (name, bio, joined) VALUES ($1, $2, $3) RETURNING *;

-- name: GetAuthor :one
SELECT * FROM authors WHERE id = $1;

-- name: CountAuthors :one
SELECT count(*) FROM authors;

-- name: ListNames :many
SELECT id, name FROM authors WHERE joined >= sqlc.arg(since) ORDER BY id;

-- name: SetBio :execrows
UPDATE authors SET bio = sqlc.narg(bio) WHERE id = sqlc.arg(id);

-- name: DeleteAuthor :execresult
DELETE FROM authors WHERE id = $1;

-- name: AddAuthors :batchexec
INSERT INTO authors (name, bio, joined) VALUES ($1, $2, $3);

-- name: FindAuthors :batchone
SELECT * FROM authors WHERE name = $1;

-- name: CopyAuthors :copyfrom
INSERT INTO authors (name, bio, joined) VALUES ($1, $2, $3);

-- name: TouchAuthor :exec
UPDATE authors SET joined = now() WHERE id = $1;
