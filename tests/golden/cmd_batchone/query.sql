-- name: GetAuthors :batchone
SELECT * FROM authors WHERE id = $1;

-- name: InsertAuthors :batchone
INSERT INTO authors (name) VALUES ($1) RETURNING id;
