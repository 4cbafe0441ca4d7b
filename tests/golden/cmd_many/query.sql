-- name: ListAuthors :many
SELECT * FROM authors ORDER BY name;

-- name: ListAuthorNames :many
SELECT name FROM authors ORDER BY name;

-- Not the table's columns in table order: a Row class.
-- name: ListBios :many
SELECT bio, name FROM authors WHERE bio IS NOT NULL;
