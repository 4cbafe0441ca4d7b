-- Issue 18, bug 1: both tables used to become one class User2 (the second definition
-- won), so users' 3 columns decoded as baz.users' 2 without an error.

-- name: ListUserPairs :many
SELECT sqlc.embed(users), sqlc.embed(bu)
FROM users JOIN baz.users bu ON bu.id = users.id
ORDER BY users.id;

-- name: GetBazUser :one
SELECT * FROM baz.users WHERE id = $1;

-- name: AddPlace :one
INSERT INTO places (id, here, there) VALUES ($1, $2, $3) RETURNING *;
