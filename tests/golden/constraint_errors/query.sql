-- One query per command kind that can violate something, and a read that can't.

-- name: CreateTeam :one
INSERT INTO teams (name) VALUES ($1) RETURNING *;

-- name: DeleteTeam :exec
DELETE FROM teams WHERE id = $1;

-- name: AddMember :one
INSERT INTO members (team_id, handle, age) VALUES ($1, $2, $3) RETURNING *;

-- name: SetAge :execrows
UPDATE members SET age = $1 WHERE id = $2;

-- name: DeleteMember :execresult
DELETE FROM members WHERE id = $1;

-- name: Book :one
INSERT INTO bookings (member_id, during) VALUES ($1, $2) RETURNING id;

-- name: RenameTeamReturning :many
WITH renamed AS (UPDATE teams SET name = $1 WHERE id = $2 RETURNING id)
SELECT id FROM renamed;

-- name: CopyMembers :copyfrom
INSERT INTO members (team_id, handle, age) VALUES ($1, $2, $3);

-- name: AddMembers :batchexec
INSERT INTO members (team_id, handle, age) VALUES ($1, $2, $3);

-- name: AddMembersReturning :batchone
INSERT INTO members (team_id, handle, age) VALUES ($1, $2, $3) RETURNING id;

-- name: AddNote :one
INSERT INTO notes (member_id, body) VALUES ($1, $2) RETURNING id;

-- name: ListTeams :many
SELECT * FROM teams ORDER BY id;
