-- name: AddSetting :one
INSERT INTO settings (attrs, history) VALUES ($1, $2) RETURNING *;

-- name: SettingsWithKey :many
SELECT id, attrs FROM settings WHERE attrs ? sqlc.arg(key)::text ORDER BY id;
