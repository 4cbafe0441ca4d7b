-- name: AddAccount :one
INSERT INTO accounts (email, aliases) VALUES ($1, $2) RETURNING *;

-- name: AccountByEmail :one
SELECT id, email FROM accounts WHERE email = $1;

-- name: AddAccountEmail :one
INSERT INTO accounts (email, aliases) VALUES ($1, $2) RETURNING id, email;
