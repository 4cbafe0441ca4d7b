-- name: GetAppsByIDs :many
SELECT * FROM app_ids WHERE id = ANY(sqlc.arg(ids)::bigint[]) ORDER BY id;

-- name: HTTPServerURLs :many
SELECT home_url FROM app_ids ORDER BY id;

-- name: ID :one
SELECT id FROM app_ids WHERE home_url = $1;
