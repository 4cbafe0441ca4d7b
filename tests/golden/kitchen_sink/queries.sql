-- Get one.
-- Second line.
-- name: GetUser :one
SELECT * FROM users WHERE id = $1;
-- name: ListByIds :many
SELECT id, username FROM users WHERE id = ANY(sqlc.arg(ids)::bigint[]);
-- name: Agg :one
SELECT max(username) AS mx, sum(id) AS s, count(*) AS c, array_agg(id) AS ids, (SELECT 1) AS sub, CASE WHEN id > 1 THEN 'a' END AS cs, p AS pt, ip, wallet, data->>'x' AS j, next_n(id) AS nn FROM users GROUP BY id, data;
-- name: Embed :many
SELECT sqlc.embed(u), sqlc.embed(p) FROM users u LEFT JOIN posts p ON p.user_id = u.id;
-- name: Ins :copyfrom
INSERT INTO posts (user_id, title) VALUES ($1, $2);
-- name: Upd :execrows
UPDATE users SET username = sqlc.arg(new_name), wallet = sqlc.narg(wallet) WHERE id = sqlc.arg(id);
-- name: Bat :batchexec
DELETE FROM posts WHERE id = $1;
-- name: Un :many
SELECT id FROM users UNION SELECT NULL;
