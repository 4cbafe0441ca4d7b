-- name: UpdateBio :execrows
UPDATE authors SET bio = $1 WHERE id = $2;
