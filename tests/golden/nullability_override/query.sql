-- `!` promises a value where the generator can't prove it, `?` admits NULL.
-- name: AuthorStats :one
SELECT max(id) AS "newest_id!", min(bio) AS "first_bio?" FROM authors;

-- name: NamesMaybe :many
SELECT name AS "name?" FROM authors;
