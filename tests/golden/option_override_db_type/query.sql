-- name: GetPrice :one
SELECT * FROM prices WHERE id = $1;

-- name: PricesAbove :many
SELECT id FROM prices WHERE amount > $1;
