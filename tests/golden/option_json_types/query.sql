-- name: CreateDocument :one
INSERT INTO documents (plan, owner, usage, settings) VALUES ($1, $2, $3, $4) RETURNING *;

-- name: GetPlan :one
SELECT plan FROM documents WHERE id = $1;

-- name: ListOwners :many
SELECT id, owner FROM documents ORDER BY id;

-- name: SetPlan :exec
UPDATE documents SET plan = $2 WHERE id = $1;
