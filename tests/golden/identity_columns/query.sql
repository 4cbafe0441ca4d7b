-- name: AddSlot :one
INSERT INTO slot (label) VALUES ($1) RETURNING *;

-- name: ListSlots :many
SELECT sort_id, label FROM slot ORDER BY sort_id;

-- name: SlotsWithClaims :many
SELECT s.sort_id, c.claim_id
FROM slot s
LEFT JOIN claim c ON c.slot_label = s.label
ORDER BY s.sort_id;

-- name: AddClaim :one
INSERT INTO claim (slot_label) VALUES ($1) RETURNING claim_id;

-- name: AddTicket :one
INSERT INTO ticket (note) VALUES ($1) RETURNING number, note;

-- name: AddMeasure :one
INSERT INTO measure (raw) VALUES ($1) RETURNING id, doubled;
