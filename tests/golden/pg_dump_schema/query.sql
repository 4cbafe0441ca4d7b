-- name: GetTicket :one
SELECT * FROM tickets WHERE id = $1;

-- name: OpenTicket :one
INSERT INTO tickets (slug, price, open_during) VALUES ($1, $2, $3)
RETURNING id, slug, state, price, open_during;

-- name: TicketLabel :one
SELECT ticket_label(t) AS label FROM tickets t WHERE t.id = $1;
