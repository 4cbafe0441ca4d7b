-- name: ListUsers :many
SELECT id FROM users;

-- name: IterListUsers :one
SELECT id FROM users LIMIT 1;
