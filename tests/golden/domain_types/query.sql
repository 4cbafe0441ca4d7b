-- name: Subscribe :one
INSERT INTO subscribers (address, weight) VALUES ($1, $2) RETURNING *;

-- name: SubscriberByAddress :one
SELECT id, weight FROM subscribers WHERE address = $1;
