-- name: AddShop :one
INSERT INTO shops (price, spot) VALUES ($1, $2) RETURNING *;

-- name: ListPrices :many
SELECT price FROM shops ORDER BY id;
