-- Create an issue with the repository's next number in one statement: the number
-- is taken by get_next_issue_number() under the repository row lock, and rolled
-- back with the insert if the insert fails.
-- name: CreateIssue :one
INSERT INTO issues (repository_id, issue_number, title, body, author_id, milestone_id, due_date)
VALUES (
    sqlc.arg(repository_id),
    get_next_issue_number(sqlc.arg(repository_id)),
    sqlc.arg(title),
    sqlc.arg(body),
    sqlc.narg(author_id),
    sqlc.narg(milestone_id),
    sqlc.narg(due_date)
)
RETURNING *;

-- Fetch an issue by its surrogate id.
-- name: GetIssue :one
SELECT * FROM issues WHERE id = $1;

-- Fetch an issue by the number users see (#42 of a repository).
-- name: GetIssueByNumber :one
SELECT * FROM issues WHERE repository_id = $1 AND issue_number = $2;

-- One page of a repository's issues in a state, newest first, optionally only those
-- carrying a label, assigned to a user, or in a milestone. Keyset pagination: pass
-- the created_at and id of the last row of the previous page.
-- name: ListIssues :many
SELECT * FROM issues i
WHERE i.repository_id = sqlc.arg(repository_id)
  AND i.state = sqlc.arg(state)
  -- Not "x IS NULL OR ...": generic plans then expect ~no rows and sort the whole list.
  AND CASE WHEN sqlc.narg(label_id)::bigint IS NULL THEN true ELSE EXISTS (
        SELECT 1 FROM issue_labels il
        WHERE il.issue_id = i.id AND il.label_id = sqlc.narg(label_id)::bigint) END
  AND CASE WHEN sqlc.narg(assignee_id)::bigint IS NULL THEN true ELSE EXISTS (
        SELECT 1 FROM issue_assignees ia
        WHERE ia.issue_id = i.id AND ia.user_id = sqlc.narg(assignee_id)::bigint) END
  AND COALESCE(i.milestone_id = sqlc.narg(milestone_id)::bigint,
               sqlc.narg(milestone_id)::bigint IS NULL)
  AND (i.created_at, i.id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY i.created_at DESC, i.id DESC
LIMIT sqlc.arg(page_size);

-- An issue together with the names of its labels, sorted, for an issue page header.
-- name: GetIssueWithLabels :one
SELECT i.id, i.repository_id, i.issue_number, i.title, i.body, i.state, i.author_id,
       i.milestone_id, i.due_date, i.closed_at, i.created_at, i.updated_at,
       coalesce(array_agg(l.name ORDER BY l.name) FILTER (WHERE l.id IS NOT NULL), '{}')::text[]
           AS "label_names!"
FROM issues i
LEFT JOIN issue_labels il ON il.issue_id = i.id
LEFT JOIN labels l ON l.id = il.label_id
WHERE i.id = $1
GROUP BY i.id;

-- How many issues of a repository are open and closed (the tab counters).
-- name: CountIssuesByState :one
SELECT count(*) FILTER (WHERE state = 'open') AS open_count,
       count(*) FILTER (WHERE state = 'closed') AS closed_count
FROM issues
WHERE repository_id = $1;

-- Change an issue's title and/or body; a NULL argument keeps the current value.
-- name: UpdateIssue :one
UPDATE issues
SET title = coalesce(sqlc.narg(title), title),
    body = coalesce(sqlc.narg(body), body)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Close an issue. Closing a closed issue keeps its original closed_at.
-- name: CloseIssue :one
UPDATE issues
SET state = 'closed', closed_at = coalesce(closed_at, now())
WHERE id = $1
RETURNING *;

-- Reopen an issue, clearing closed_at.
-- name: ReopenIssue :one
UPDATE issues
SET state = 'open', closed_at = NULL
WHERE id = $1
RETURNING *;

-- Set or clear (NULL) an issue's due date.
-- name: SetIssueDueDate :one
UPDATE issues SET due_date = sqlc.narg(due_date) WHERE id = sqlc.arg(id) RETURNING *;

-- Put an issue in a milestone of its repository, or take it out (NULL).
-- name: SetIssueMilestone :one
UPDATE issues SET milestone_id = sqlc.narg(milestone_id) WHERE id = sqlc.arg(id) RETURNING *;

-- Delete an issue and everything hanging off it; returns 1 if it existed.
-- name: DeleteIssue :execrows
DELETE FROM issues WHERE id = $1;

-- Add a comment to an issue.
-- name: CreateComment :one
INSERT INTO comments (issue_id, author_id, body)
VALUES (sqlc.arg(issue_id), sqlc.narg(author_id), sqlc.arg(body))
RETURNING *;

-- Fetch one comment.
-- name: GetComment :one
SELECT * FROM comments WHERE id = $1;

-- One page of an issue's comments, oldest first (conversation order). Keyset: pass
-- the created_at and id of the last comment of the previous page.
-- name: ListComments :many
SELECT * FROM comments
WHERE issue_id = sqlc.arg(issue_id)
  AND (created_at, id)
       > (COALESCE(sqlc.narg(after_created_at)::timestamptz, '-infinity'),
          COALESCE(sqlc.narg(after_id)::bigint, 0))
ORDER BY created_at, id
LIMIT sqlc.arg(page_size);

-- Edit a comment's body and record when a person edited it.
-- name: EditComment :one
UPDATE comments SET body = sqlc.arg(body), edited_at = now()
WHERE id = sqlc.arg(id)
RETURNING *;

-- Delete a comment; returns 1 if it existed.
-- name: DeleteComment :execrows
DELETE FROM comments WHERE id = $1;

-- Assign a user to an issue. Idempotent: returns 1 when newly assigned, 0 when the
-- user already was.
-- name: AddIssueAssignee :execrows
INSERT INTO issue_assignees (issue_id, user_id, assigned_by)
VALUES (sqlc.arg(issue_id), sqlc.arg(user_id), sqlc.narg(assigned_by))
ON CONFLICT (issue_id, user_id) DO NOTHING;

-- Unassign a user; returns 1 if they were assigned.
-- name: RemoveIssueAssignee :execrows
DELETE FROM issue_assignees WHERE issue_id = $1 AND user_id = $2;

-- The users assigned to an issue, by username.
-- name: ListIssueAssignees :many
SELECT u.* FROM issue_assignees a
JOIN users u ON u.id = a.user_id
WHERE a.issue_id = $1
ORDER BY lower(u.username);

-- Define a label in a repository.
-- name: CreateLabel :one
INSERT INTO labels (repository_id, name, color, description)
VALUES (sqlc.arg(repository_id), sqlc.arg(name), sqlc.arg(color), sqlc.arg(description))
RETURNING *;

-- Fetch a label by id.
-- name: GetLabel :one
SELECT * FROM labels WHERE id = $1;

-- Fetch a label by its name within a repository.
-- name: GetLabelByName :one
SELECT * FROM labels WHERE repository_id = $1 AND name = $2;

-- One page of a repository's labels by name. Keyset: pass the last name seen.
-- name: ListLabels :many
SELECT * FROM labels
WHERE repository_id = sqlc.arg(repository_id)
  AND name > COALESCE(sqlc.narg(after_name)::text, '')
ORDER BY name
LIMIT sqlc.arg(page_size);

-- Rename or recolour a label; a NULL argument keeps the current value.
-- name: UpdateLabel :one
UPDATE labels
SET name = coalesce(sqlc.narg(name), name),
    color = coalesce(sqlc.narg(color), color),
    description = coalesce(sqlc.narg(description), description)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Delete a label (detaching it from every issue); returns 1 if it existed.
-- name: DeleteLabel :execrows
DELETE FROM labels WHERE id = $1;

-- Attach a label to an issue. Idempotent: returns 1 when newly attached, 0 when it
-- already was. repository_id comes from the issue (or, for an unknown issue, the
-- label), so a label of another repository fails
-- issue_labels_label_same_repository and an unknown id fails its own foreign key.
-- name: AttachLabel :execrows
INSERT INTO issue_labels (issue_id, label_id, repository_id)
VALUES (
    sqlc.arg(issue_id),
    sqlc.arg(label_id),
    coalesce((SELECT i.repository_id FROM issues i WHERE i.id = sqlc.arg(issue_id)),
             (SELECT l.repository_id FROM labels l WHERE l.id = sqlc.arg(label_id)))
)
ON CONFLICT (issue_id, label_id) DO NOTHING;

-- Attach several labels at once (e.g. the labels chosen when filing an issue), sent in
-- pipeline mode in one transaction: all attach or, on any error, none. Already
-- attached pairs are skipped, as in AttachLabel.
-- An unknown issue or label fails its foreign key (the whole batch with it).
-- name: AttachLabels :batchexec
INSERT INTO issue_labels (issue_id, label_id, repository_id)
VALUES (
    sqlc.arg(issue_id),
    sqlc.arg(label_id),
    coalesce((SELECT i.repository_id FROM issues i WHERE i.id = sqlc.arg(issue_id)),
             (SELECT l.repository_id FROM labels l WHERE l.id = sqlc.arg(label_id)))
)
ON CONFLICT (issue_id, label_id) DO NOTHING;

-- Detach a label from an issue; returns 1 if it was attached.
-- name: DetachLabel :execrows
DELETE FROM issue_labels WHERE issue_id = $1 AND label_id = $2;

-- The labels on an issue, by name.
-- name: ListIssueLabels :many
SELECT l.* FROM issue_labels il
JOIN labels l ON l.id = il.label_id
WHERE il.issue_id = $1
ORDER BY l.name;

-- Record that one issue blocks another. Idempotent (returns 0 when the edge
-- exists); an issue blocking itself violates issue_dependencies_no_self_dependency.
-- name: AddIssueDependency :execrows
INSERT INTO issue_dependencies (blocker_issue_id, blocked_issue_id, created_by)
VALUES (sqlc.arg(blocker_issue_id), sqlc.arg(blocked_issue_id), sqlc.narg(created_by))
ON CONFLICT (blocker_issue_id, blocked_issue_id) DO NOTHING;

-- Remove a dependency edge; returns 1 if it existed.
-- name: RemoveIssueDependency :execrows
DELETE FROM issue_dependencies
WHERE blocker_issue_id = sqlc.arg(blocker_issue_id) AND blocked_issue_id = sqlc.arg(blocked_issue_id);

-- The issues that this issue blocks.
-- name: ListIssuesBlockedBy :many
SELECT i.* FROM issue_dependencies d
JOIN issues i ON i.id = d.blocked_issue_id
WHERE d.blocker_issue_id = sqlc.arg(blocker_issue_id)
ORDER BY i.repository_id, i.issue_number;

-- The issues that block this issue (what must be done first).
-- name: ListIssueBlockers :many
SELECT i.* FROM issue_dependencies d
JOIN issues i ON i.id = d.blocker_issue_id
WHERE d.blocked_issue_id = sqlc.arg(blocked_issue_id)
ORDER BY i.repository_id, i.issue_number;

-- Make an issue a subtask of another, appended after the parent's existing
-- subtasks. Adding the same pair again returns the existing row; a child that
-- already has another parent violates subtasks_one_parent.
-- name: AddSubtask :one
INSERT INTO subtasks (parent_issue_id, child_issue_id, position)
SELECT sqlc.arg(parent_issue_id), sqlc.arg(child_issue_id),
       coalesce(max(s.position) + 1, 0)
FROM subtasks s
WHERE s.parent_issue_id = sqlc.arg(parent_issue_id)
ON CONFLICT (parent_issue_id, child_issue_id) DO UPDATE SET position = subtasks.position
RETURNING *;

-- Detach a subtask from its parent; returns 1 if it was attached.
-- name: RemoveSubtask :execrows
DELETE FROM subtasks
WHERE parent_issue_id = sqlc.arg(parent_issue_id) AND child_issue_id = sqlc.arg(child_issue_id);

-- The subtasks of an issue, in their order.
-- name: ListSubtasks :many
SELECT i.* FROM subtasks s
JOIN issues i ON i.id = s.child_issue_id
WHERE s.parent_issue_id = sqlc.arg(parent_issue_id)
ORDER BY s.position, s.child_issue_id;

-- The parent of a subtask, if it has one.
-- name: GetParentIssue :one
SELECT i.* FROM subtasks s
JOIN issues i ON i.id = s.parent_issue_id
WHERE s.child_issue_id = sqlc.arg(child_issue_id);

-- Pin an issue at the end of its repository's pinned list. Pinning a pinned issue
-- returns its existing row unchanged; NULL when the issue does not exist.
-- name: PinIssue :one
INSERT INTO pinned_issues (issue_id, repository_id, position, pinned_by)
SELECT i.id, i.repository_id,
       coalesce((SELECT max(p.position) + 1 FROM pinned_issues p
                 WHERE p.repository_id = i.repository_id), 0),
       sqlc.narg(pinned_by)
FROM issues i
WHERE i.id = sqlc.arg(issue_id)
ON CONFLICT (issue_id) DO UPDATE SET position = pinned_issues.position
RETURNING *;

-- Unpin an issue; returns 1 if it was pinned. The others keep their order.
-- name: UnpinIssue :execrows
DELETE FROM pinned_issues WHERE issue_id = $1;

-- Move a pinned issue to a 0-based position (clamped to the end), renumbering the
-- repository's pins 0..n-1 in one statement (the unique position constraint is
-- checked at statement end). Returns the pins in their new order; empty when the
-- issue is not pinned.
-- name: MovePinnedIssue :many
WITH target AS (
    SELECT tp.issue_id, tp.repository_id FROM pinned_issues tp WHERE tp.issue_id = sqlc.arg(issue_id)
),
others AS (
    SELECT p.issue_id,
           (row_number() OVER (ORDER BY p.position, p.issue_id) - 1)::integer AS rank
    FROM pinned_issues p
    JOIN target t ON t.repository_id = p.repository_id
    WHERE p.issue_id <> t.issue_id
),
wanted AS (
    SELECT t.issue_id,
           least(greatest(sqlc.arg(position)::integer, 0),
                 (SELECT count(*) FROM others)::integer) AS position
    FROM target t
),
renumbered AS (
    SELECT w.issue_id, w.position FROM wanted w
    UNION ALL
    SELECT o.issue_id, CASE WHEN o.rank < w.position THEN o.rank ELSE o.rank + 1 END
    FROM others o CROSS JOIN wanted w
),
moved AS (
    UPDATE pinned_issues p SET position = r.position
    FROM renumbered r
    WHERE p.issue_id = r.issue_id
    RETURNING p.issue_id, p.repository_id, p.position, p.pinned_by, p.created_at
)
SELECT issue_id, repository_id, position, pinned_by, created_at FROM moved
ORDER BY position;

-- A repository's pinned issues in display order.
-- name: ListPinnedIssues :many
SELECT i.* FROM pinned_issues p
JOIN issues i ON i.id = p.issue_id
WHERE p.repository_id = $1
ORDER BY p.position;

-- Record an @-mention of a user in an issue body (comment_id NULL) or a comment.
-- name: CreateMention :one
INSERT INTO mentions (issue_id, comment_id, mentioned_user_id, mentioned_by)
VALUES (sqlc.arg(issue_id), sqlc.narg(comment_id), sqlc.arg(mentioned_user_id), sqlc.narg(mentioned_by))
RETURNING *;

-- One page of the mentions of a user, newest first (their notification feed).
-- Keyset: pass the created_at and id of the last mention of the previous page.
-- name: ListMentionsForUser :many
SELECT * FROM mentions
WHERE mentioned_user_id = sqlc.arg(mentioned_user_id)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- React with an emoji on exactly one of an issue or a comment. Idempotent: returns
-- 1 when added, 0 when the user had already reacted so.
-- name: AddReaction :execrows
INSERT INTO reactions (user_id, issue_id, comment_id, emoji)
VALUES (sqlc.arg(user_id), sqlc.narg(issue_id), sqlc.narg(comment_id), sqlc.arg(emoji))
ON CONFLICT DO NOTHING;

-- Take a reaction back from an issue or a comment; returns 1 if it existed.
-- name: RemoveReaction :execrows
DELETE FROM reactions
WHERE user_id = sqlc.arg(user_id)
  AND emoji = sqlc.arg(emoji)
  AND issue_id IS NOT DISTINCT FROM sqlc.narg(issue_id)
  AND comment_id IS NOT DISTINCT FROM sqlc.narg(comment_id);

-- Reaction counts on an issue, grouped by emoji, most used first.
-- name: CountIssueReactions :many
SELECT emoji, count(*) AS reaction_count
FROM reactions
WHERE issue_id = sqlc.arg(issue_id)::bigint
GROUP BY emoji
ORDER BY reaction_count DESC, emoji;

-- Reaction counts on a comment, grouped by emoji, most used first.
-- name: CountCommentReactions :many
SELECT emoji, count(*) AS reaction_count
FROM reactions
WHERE comment_id = sqlc.arg(comment_id)::bigint
GROUP BY emoji
ORDER BY reaction_count DESC, emoji;

-- Append an event to an issue's history.
-- name: CreateIssueEvent :one
INSERT INTO issue_events (issue_id, actor_id, event_type, payload)
VALUES (sqlc.arg(issue_id), sqlc.narg(actor_id), sqlc.arg(event_type), sqlc.arg(payload))
RETURNING *;

-- One page of an issue's history, oldest first. Keyset: pass the created_at and
-- id of the last event of the previous page.
-- name: ListIssueEvents :many
SELECT * FROM issue_events
WHERE issue_id = sqlc.arg(issue_id)
  AND (created_at, id)
       > (COALESCE(sqlc.narg(after_created_at)::timestamptz, '-infinity'),
          COALESCE(sqlc.narg(after_id)::bigint, 0))
ORDER BY created_at, id
LIMIT sqlc.arg(page_size);
