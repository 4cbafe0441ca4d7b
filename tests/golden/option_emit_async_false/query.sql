-- No aio/ package is written.
-- name: GetAuthor :one
SELECT * FROM authors WHERE id = $1;
