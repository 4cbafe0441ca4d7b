-- name: ListDiv :many
SELECT id / sqlc.arg(d)::integer AS q FROM numbers ORDER BY id;
