-- name: GetPlace :one
SELECT * FROM places WHERE id = $1;

-- name: MovePlace :exec
UPDATE places SET location = $1 WHERE id = $2;
