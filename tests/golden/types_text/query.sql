-- name: AddShape :one
INSERT INTO shapes (p, ln, ls, b, pa, pg, c, mac, mac8, tv, tq, bt, vb, mo, lsn, pts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
RETURNING *;

-- name: ShapesMatching :many
SELECT id, tv FROM shapes WHERE tv @@ sqlc.arg(query)::tsquery ORDER BY id;

-- name: AddDocument :one
INSERT INTO documents (body) VALUES ($1) RETURNING *;

-- name: CatalogValues :one
SELECT 'shapes'::regclass AS rel, pg_sleep(0) AS nap, '5'::xid AS xact, '(0,1)'::tid AS tuple_id;
