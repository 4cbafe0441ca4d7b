-- name: Health :many
SELECT id, ok FROM checks ORDER BY id;

-- name: AddCheck :exec
INSERT INTO checks (id, ok) VALUES ($1, $2);
