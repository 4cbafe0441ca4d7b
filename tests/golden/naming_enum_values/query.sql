-- name: AddMark :one
INSERT INTO marks (mark) VALUES ($1) RETURNING *;

-- name: ListMarks :many
SELECT * FROM marks ORDER BY id;
