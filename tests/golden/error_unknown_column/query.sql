-- name: Bad :one
SELECT nope FROM users;
