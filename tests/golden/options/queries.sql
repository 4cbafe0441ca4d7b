-- name: CreatePerson :one
INSERT INTO people (profile, settings, balance) VALUES ($1, $2, $3) RETURNING *;

-- name: ListPeople :many
SELECT * FROM people ORDER BY id;
