-- Refused today. Issue 10: suffix clashing names (`id`, `id_2`).
-- name: Dup :many
SELECT id, name AS id FROM users;
