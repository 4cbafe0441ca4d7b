-- A filter that is off when its argument is None; the same narg used twice is one
-- parameter.
-- name: SearchAuthors :many
SELECT * FROM authors
WHERE sqlc.narg(name)::text IS NULL OR name = sqlc.narg(name)
ORDER BY id;

-- name: SetBio :exec
UPDATE authors SET bio = sqlc.narg(bio) WHERE id = sqlc.arg(id);
