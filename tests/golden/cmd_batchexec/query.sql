-- name: SetBios :batchexec
UPDATE authors SET bio = $1 WHERE id = $2;
