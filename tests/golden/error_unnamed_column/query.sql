-- Refused today. Issue 10: an unnamed column becomes `column_2`.
-- name: Two :many
SELECT id, id + 1 FROM users;
