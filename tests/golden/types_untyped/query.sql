-- name: Nothing :one
SELECT NULL AS nothing FROM users WHERE id = $1;

-- name: Flagged :many
-- A bare boolean condition: PostgreSQL infers boolean, sqlc's static analysis any.
SELECT id,
       name
FROM users
WHERE sqlc.arg(flag) AND id > 0
ORDER BY id;

-- name: Matching :many
SELECT id FROM users WHERE $1 OR active ORDER BY id;
