-- name: Nothing :one
SELECT NULL AS nothing FROM users;
