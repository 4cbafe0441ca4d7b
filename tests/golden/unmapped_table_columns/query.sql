-- name: ItemName :one
SELECT name FROM items WHERE id = $1;

-- name: RenameItem :exec
UPDATE items SET name = $2 WHERE id = $1;
