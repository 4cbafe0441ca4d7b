-- name: AddJob :one
INSERT INTO jobs (id, "conn", "cur", "r", "row", "rows", "error", "_error", "status", "_status", "stream", "batch_size")
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING *;

-- name: ListJobs :many
SELECT id FROM jobs
WHERE "conn" = $1 AND "cur" = $2 AND "r" = $3 AND "row" = $4 AND "rows" = $5
  AND "error" = $6 AND "_error" = $7 AND "status" = $8 AND "_status" = $9
  AND "stream" = $10 AND "batch_size" = $11
ORDER BY id;

-- name: FailJob :exec
UPDATE jobs SET "error" = $1, "_error" = $2 WHERE "status" = $3 AND "_status" = $4;

-- name: CountFailed :execrows
UPDATE jobs SET "status" = $1, "_status" = $2 WHERE "error" = $3 AND "row" = $4;

-- name: RetryJob :execresult
UPDATE jobs SET "status" = $1 WHERE "error" = $2 AND "cur" = $3 AND "r" = $4;
