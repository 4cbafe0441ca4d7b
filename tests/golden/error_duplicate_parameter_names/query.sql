-- Refused today. Issue 10: suffix clashing names (`id`, `id_2`).
-- name: Page :many
SELECT id FROM users WHERE id > $1 AND id < sqlc.arg(id);
