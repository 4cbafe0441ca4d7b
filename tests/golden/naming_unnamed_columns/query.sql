-- name: JobsPlusOne :many
SELECT 1, name || '!', name FROM jobs ORDER BY id;

-- name: OneNumber :one
SELECT 1 FROM jobs WHERE id = $1;

-- name: JobExists :one
SELECT FROM jobs WHERE id = $1;

-- name: EveryJob :many
SELECT FROM jobs;
