-- name: Echo :one
SELECT id FROM users WHERE sqlc.arg(anything) IS NULL;
