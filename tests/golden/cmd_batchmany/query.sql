-- name: ListAuthorsByName :batchmany
SELECT * FROM authors WHERE name = $1 ORDER BY id;
