-- name: CreateTicket :one
INSERT INTO tickets (status) VALUES ($1) RETURNING *;

-- name: TicketsIn :many
SELECT id, status FROM tickets WHERE status = ANY(sqlc.arg(statuses)::status[]);

-- name: TicketStatus :one
SELECT status FROM tickets WHERE id = $1;
