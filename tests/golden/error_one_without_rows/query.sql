-- name: Del :one
DELETE FROM users WHERE id = $1;
