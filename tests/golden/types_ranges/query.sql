-- name: AddSpan :one
INSERT INTO spans (r4, r8, rn, rd, rts, rtz, m4, m8, mn, md, mts, mtz, r4s)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING *;

-- name: OverlappingSpanIDs :many
SELECT id FROM spans WHERE r4 && sqlc.arg(within) ORDER BY id;

-- name: DateSpan :one
SELECT rd, md FROM spans WHERE id = $1;
