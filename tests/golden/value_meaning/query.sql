-- Every value kind in and out of the three targets (tests/codegen/test_value_meaning.py).

-- name: InsertStamp :one
INSERT INTO stamps (at, wall, day, ats, tags, loose, moods, mood, doc)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *;

-- name: GetStamp :one
SELECT * FROM stamps WHERE id = $1;

-- The array parameter is cast, so sqlc links it to no column; the check still applies,
-- since the statement writes it to stamps.tags.
-- name: SetTags :execrows
UPDATE stamps SET tags = sqlc.arg(tags)::text[] WHERE id = sqlc.arg(id);

-- name: StampsAfter :many
SELECT id FROM stamps WHERE at > sqlc.arg(after) ORDER BY id;

-- name: CopyStamps :copyfrom
INSERT INTO stamps (at, wall, tags) VALUES ($1, $2, $3);

-- name: InsertMark :one
INSERT INTO marks (labels) VALUES ($1) RETURNING *;
