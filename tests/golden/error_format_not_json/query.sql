-- name: A :one
SELECT id FROM users;
