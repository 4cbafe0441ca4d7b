-- name: List :many
SELECT * FROM events ORDER BY id;

-- name: Filter :many
SELECT id, "datetime", "uuid", "decimal", seen_on FROM events WHERE "type" = $1 AND "match" = $2 ORDER BY id;

-- name: Type :one
SELECT "type" FROM events WHERE id = $1;

-- name: Datetime :one
SELECT "datetime" FROM events WHERE "conn" = $1 AND "rows" = $2 AND batch_size = $3 AND "class" = $4 AND "from" = $5;

-- name: Models :many
SELECT id, "list", "str" FROM events WHERE "models" = $1 AND "enums" = $2 AND "psycopg" = $3 AND "uuid" = $4;

-- name: AddEvent :one
INSERT INTO events ("type", "case", "_", "__private") VALUES ($1, $2, $3, $4) RETURNING *;
