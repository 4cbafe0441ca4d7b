-- name: AddEmbedding :one
INSERT INTO embeddings (embedding, history) VALUES ($1, $2) RETURNING *;

-- name: NearestEmbedding :one
SELECT id, embedding FROM embeddings ORDER BY embedding <-> sqlc.arg(probe)::vector LIMIT 1;

-- name: AddEmbeddingOnly :one
INSERT INTO embeddings (embedding, history) VALUES ($1, $2) RETURNING id, embedding;
