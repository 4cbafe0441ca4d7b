-- name: GetPerson :one
SELECT * FROM people WHERE id = $1;
