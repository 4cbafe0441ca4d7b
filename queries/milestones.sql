-- Create a milestone in a repository.
-- name: CreateMilestone :one
INSERT INTO milestones (repository_id, title, description, due_date)
VALUES (sqlc.arg(repository_id), sqlc.arg(title), sqlc.arg(description), sqlc.narg(due_date))
RETURNING *;

-- Fetch a milestone by id.
-- name: GetMilestone :one
SELECT * FROM milestones WHERE id = $1;

-- Fetch a milestone by its title within a repository.
-- name: GetMilestoneByTitle :one
SELECT * FROM milestones WHERE repository_id = $1 AND title = $2;

-- One page of a repository's milestones in a state with their open and closed
-- issue counts, soonest due first and undated last. Keyset: pass the due_date
-- (possibly NULL) and id of the last row of the previous page; after_id NULL
-- starts from the beginning.
-- name: ListMilestonesWithCounts :many
SELECT m.id, m.repository_id, m.title, m.description, m.state, m.due_date, m.closed_at,
       m.created_at, m.updated_at, c.open_issues, c.closed_issues
FROM milestones m
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE i.state = 'open') AS open_issues,
           count(*) FILTER (WHERE i.state = 'closed') AS closed_issues
    FROM issues i
    WHERE i.milestone_id = m.id
) c
WHERE m.repository_id = sqlc.arg(repository_id)
  AND m.state = sqlc.arg(state)
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (sqlc.narg(after_due_date)::date IS NULL
           AND m.due_date IS NULL AND m.id > sqlc.narg(after_id)::bigint)
       OR (sqlc.narg(after_due_date)::date IS NOT NULL
           AND (m.due_date IS NULL
                OR (m.due_date, m.id) > (sqlc.narg(after_due_date)::date, sqlc.narg(after_id)::bigint))))
ORDER BY m.due_date ASC NULLS LAST, m.id ASC
LIMIT sqlc.arg(page_size);

-- Change a milestone's title, description or due date; a NULL title or description
-- keeps the current value, while due_date is always set (NULL clears it).
-- name: UpdateMilestone :one
UPDATE milestones
SET title = coalesce(sqlc.narg(title), title),
    description = coalesce(sqlc.narg(description), description),
    due_date = sqlc.narg(due_date)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Close a milestone. Closing a closed milestone keeps its original closed_at.
-- name: CloseMilestone :one
UPDATE milestones
SET state = 'closed', closed_at = coalesce(closed_at, now())
WHERE id = $1
RETURNING *;

-- Reopen a milestone, clearing closed_at.
-- name: ReopenMilestone :one
UPDATE milestones
SET state = 'open', closed_at = NULL
WHERE id = $1
RETURNING *;

-- Delete a milestone; its issues stay, without a milestone. Returns 1 if it existed.
-- name: DeleteMilestone :execrows
DELETE FROM milestones WHERE id = $1;
