-- name: CreatePost :one
INSERT INTO posts (tags, scores, grid) VALUES ($1, $2, $3) RETURNING *;

-- name: PostsTagged :many
SELECT id, tags FROM posts WHERE tags @> sqlc.arg(wanted)::text[];

-- name: PostsByIds :many
SELECT id FROM posts WHERE id = ANY(sqlc.arg(ids)::bigint[]);
