-- name: CreateAccount :one
INSERT INTO accounts (balance, credit, tags) VALUES ($1, $2, $3) RETURNING *;

-- name: GetBalance :one
SELECT balance FROM accounts WHERE id = $1;

-- name: ListCredits :many
SELECT id, credit FROM accounts WHERE balance >= $1 ORDER BY id;

-- name: ListTags :many
SELECT tags FROM accounts ORDER BY id;

-- name: SetCredit :exec
UPDATE accounts SET credit = $2 WHERE id = $1;

-- name: AddAccounts :copyfrom
INSERT INTO accounts (balance, credit, tags) VALUES ($1, $2, $3);
