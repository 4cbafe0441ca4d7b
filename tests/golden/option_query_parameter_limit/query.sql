-- query_parameter_limit: 2 (with emit_classes and emit_asyncpg): a function of three or
-- more parameters takes one frozen, keyword-only <Query>Params (defined in this module,
-- q.<Query>Params in the async ones), read as params.x; two or fewer stay keywords;
-- batches take rows of their Params as before. A query named Params becomes params_: its
-- method hands the object, params, on to it.

-- name: CreateAuthor :one
INSERT INTO authors (name, bio, joined) VALUES ($1, $2, $3) RETURNING *;

-- name: GetAuthor :one
SELECT * FROM authors WHERE id = $1;

-- name: ListJoined :many
SELECT * FROM authors
WHERE joined >= sqlc.arg(since) AND joined < sqlc.arg(until) AND name <> sqlc.arg(not_name)
ORDER BY id;

-- name: SetBio :execrows
UPDATE authors SET bio = sqlc.narg(bio) WHERE name = sqlc.arg(name) AND joined < sqlc.arg(before);

-- name: AddAuthors :batchexec
INSERT INTO authors (name, bio, joined) VALUES ($1, $2, $3);

-- name: Params :one
SELECT count(*) FROM authors WHERE name <> $1 AND joined >= $2 AND joined < $3;
