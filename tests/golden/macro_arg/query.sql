-- Keyset pagination with named parameters, in both spellings sqlc accepts. LIMIT's
-- parameter is cast: static sqlc says integer where PostgreSQL says bigint.
-- name: PageAuthors :many
SELECT id, name FROM authors
WHERE id > sqlc.arg(after_id) AND name <> @skip_name
ORDER BY id
LIMIT sqlc.arg(page_size)::integer;

-- name: AuthorsByIds :many
SELECT * FROM authors WHERE id = ANY(sqlc.arg(ids)::bigint[]);
