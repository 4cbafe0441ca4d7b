-- name: ListUserPairs :many
SELECT sqlc.embed(users), sqlc.embed(bu)
FROM users JOIN baz.users bu ON bu.id = users.id
ORDER BY users.id;

-- name: GetBazUser :one
SELECT * FROM baz.users WHERE id = $1;

-- name: AddPlace :one
INSERT INTO places (id, here, there) VALUES ($1, $2, $3) RETURNING *;
