-- name: Bad :one
SELECT id FROM nowhere;
