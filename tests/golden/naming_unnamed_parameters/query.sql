-- name: UsersByIDs :many
SELECT id FROM users WHERE id = ANY($1::bigint[]) ORDER BY id;

-- name: UsersFrom :many
SELECT r.id FROM users r WHERE r.id >= $1::bigint ORDER BY r.id;

-- name: UsersTagged :many
SELECT id FROM users WHERE tags && $1::text[] ORDER BY id;

-- name: UsersSince :many
SELECT id FROM users WHERE created_at > now() - $1::interval ORDER BY id;

-- name: UsersBetween :many
SELECT id FROM users WHERE id > $1 AND id < $2 ORDER BY id;

-- A named parameter keeps its name; the unnamed one beside it is numbered.
-- name: UsersBelow :many
SELECT id FROM users WHERE id > $1 AND id < sqlc.arg(id) ORDER BY id;

-- name: RenameUser :execrows
UPDATE users SET name = $1 WHERE id = $2 AND name <> $1;
