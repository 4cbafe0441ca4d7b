-- Submit a change (and the stack below it) for landing. A change has at most one
-- open request per repository (UniqueViolation otherwise).
-- name: SubmitLandingRequest :one
INSERT INTO landing_queue (
    repository_id, change_id, title, description, author_id, target_bookmark, stack_change_ids
) VALUES (
    sqlc.arg(repository_id), sqlc.arg(change_id), sqlc.arg(title), sqlc.arg(description),
    sqlc.narg(author_id), sqlc.arg(target_bookmark), sqlc.arg(stack_change_ids)::text[]
)
RETURNING *;

-- A landing request by id.
-- name: GetLandingRequest :one
SELECT * FROM landing_queue WHERE id = sqlc.arg(id);

-- The open (not landed, not abandoned) landing request of a change, if any.
-- name: GetOpenLandingRequestForChange :one
SELECT * FROM landing_queue
WHERE repository_id = sqlc.arg(repository_id)
  AND change_id = sqlc.arg(change_id)
  AND status NOT IN ('landed', 'abandoned');

-- One page of a repository's landing requests in a status, newest first. Pass the
-- last row's created_at and id to get the next page.
-- name: ListLandingRequestsByStatus :many
SELECT * FROM landing_queue
WHERE repository_id = sqlc.arg(repository_id)
  AND status = sqlc.arg(status)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Count a repository's landing requests per status (for the queue dashboard).
-- name: CountLandingRequestsByStatus :many
SELECT status, count(*) AS total
FROM landing_queue
WHERE repository_id = sqlc.arg(repository_id)
GROUP BY status
ORDER BY status;

-- Edit the title, description and stack of an open request (the change was
-- rewritten or its stack changed). Returns NULL once landed or abandoned.
-- name: UpdateLandingRequest :one
UPDATE landing_queue
SET title = sqlc.arg(title),
    description = sqlc.arg(description),
    stack_change_ids = sqlc.arg(stack_change_ids)::text[]
WHERE id = sqlc.arg(id) AND status NOT IN ('landed', 'abandoned')
RETURNING *;

-- Move a landing request to another status when the move is legal; returns NULL
-- and changes nothing otherwise. The lifecycle:
--   pending -> in_review -> approved -> queued -> landing -> landed (MarkLandingLanded);
--   approved -> in_review (approval withdrawn); landing -> failed -> queued (retry);
--   queued/landing -> conflicted (RecordLandingConflicts) -> queued;
--   any open status -> abandoned -> pending (reopen).
-- Landing and conflicts have their own queries: they record more than the status.
-- name: TransitionLandingRequest :one
UPDATE landing_queue
SET status = sqlc.arg(to_status)::landing_status
WHERE id = sqlc.arg(id)
  AND (status, sqlc.arg(to_status)::landing_status) IN (
      ('pending', 'in_review'),
      ('in_review', 'approved'),
      ('approved', 'in_review'),
      ('approved', 'queued'),
      ('queued', 'landing'),
      ('landing', 'failed'),
      ('failed', 'queued'),
      ('conflicted', 'queued'),
      ('pending', 'abandoned'),
      ('in_review', 'abandoned'),
      ('approved', 'abandoned'),
      ('queued', 'abandoned'),
      ('conflicted', 'abandoned'),
      ('failed', 'abandoned'),
      ('abandoned', 'pending'))
RETURNING *;

-- Record the conflicts found by a rebase attempt. A queued or landing request
-- becomes conflicted; a request still in review just carries the flag. Returns
-- NULL for a landed or abandoned request.
-- name: RecordLandingConflicts :one
UPDATE landing_queue
SET has_conflicts = true,
    conflict_info = sqlc.arg(conflict_info)::jsonb,
    status = CASE WHEN status IN ('queued', 'landing') THEN 'conflicted' ELSE status END
WHERE id = sqlc.arg(id) AND status NOT IN ('landed', 'abandoned')
RETURNING *;

-- Clear the conflicts of a request once they are resolved; a conflicted request
-- goes back to the queue.
-- name: ClearLandingConflicts :one
UPDATE landing_queue
SET has_conflicts = false,
    conflict_info = NULL,
    status = CASE WHEN status = 'conflicted' THEN 'queued' ELSE status END
WHERE id = sqlc.arg(id) AND status NOT IN ('landed', 'abandoned')
RETURNING *;

-- Finish a landing: only a request in status landing becomes landed, with the
-- commit it landed as, who landed it and when. Returns NULL otherwise.
-- name: MarkLandingLanded :one
UPDATE landing_queue
SET status = 'landed',
    landed_commit_id = sqlc.arg(landed_commit_id)::text,
    landed_by = sqlc.narg(landed_by),
    landed_at = now(),
    has_conflicts = false,
    conflict_info = NULL
WHERE id = sqlc.arg(id) AND status = 'landing'
RETURNING *;

-- The next queued, conflict-free requests of a repository in queue order (oldest
-- submission first), without claiming them.
-- name: ListNextLandable :many
SELECT * FROM landing_queue
WHERE repository_id = sqlc.arg(repository_id)
  AND status = 'queued'
  AND NOT has_conflicts
ORDER BY created_at, id
LIMIT sqlc.arg(max_count);

-- Claim up to max_count queued requests of a repository for landing, in queue
-- order: each request is handed to exactly one lander even under concurrency
-- (ids picked with SKIP LOCKED in a materialized CTE, then updated). Rows come
-- back in queue order, which UPDATE ... RETURNING alone does not promise.
-- name: ClaimNextLandable :many
WITH picked AS MATERIALIZED (
    SELECT q.id FROM landing_queue AS q
    WHERE q.repository_id = sqlc.arg(repository_id)
      AND q.status = 'queued'
      AND NOT q.has_conflicts
    ORDER BY q.created_at, q.id
    LIMIT sqlc.arg(max_count)
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE landing_queue AS lq
    SET status = 'landing'
    FROM picked
    WHERE lq.id = picked.id
    RETURNING lq.*
)
SELECT * FROM claimed
ORDER BY created_at, id;

-- Delete a landing request with its reviews and comments.
-- name: DeleteLandingRequest :execrows
DELETE FROM landing_queue WHERE id = sqlc.arg(id);

-- Record a reviewer's verdict; a reviewer has one review per request, so a second
-- verdict replaces the first.
-- name: UpsertLandingReview :one
INSERT INTO landing_reviews (landing_id, reviewer_id, state, body)
VALUES (sqlc.arg(landing_id), sqlc.arg(reviewer_id)::bigint, sqlc.arg(state), sqlc.arg(body))
ON CONFLICT (landing_id, reviewer_id) DO UPDATE
SET state = EXCLUDED.state, body = EXCLUDED.body
RETURNING *;

-- The reviews of a landing request, oldest first.
-- name: ListLandingReviews :many
SELECT * FROM landing_reviews
WHERE landing_id = sqlc.arg(landing_id)
ORDER BY created_at, id;

-- Withdraw a reviewer's review.
-- name: DeleteLandingReview :execrows
DELETE FROM landing_reviews
WHERE landing_id = sqlc.arg(landing_id) AND reviewer_id = sqlc.arg(reviewer_id)::bigint;

-- How many reviewers approve and how many request changes (the landing gate).
-- name: CountLandingApprovals :one
SELECT
    count(*) FILTER (WHERE state = 'approved') AS approvals,
    count(*) FILTER (WHERE state = 'changes_requested') AS changes_requested
FROM landing_reviews
WHERE landing_id = sqlc.arg(landing_id);

-- Comment on one line of a landing request's diff.
-- name: CreateLandingLineComment :one
INSERT INTO landing_line_comments (landing_id, author_id, file_path, line, side, body)
VALUES (
    sqlc.arg(landing_id), sqlc.narg(author_id), sqlc.arg(file_path), sqlc.arg(line),
    sqlc.arg(side), sqlc.arg(body)
)
RETURNING *;

-- A line comment by id.
-- name: GetLandingLineComment :one
SELECT * FROM landing_line_comments WHERE id = sqlc.arg(id);

-- The line comments of a landing request in reading order: by file, line, then
-- creation.
-- name: ListLandingLineComments :many
SELECT * FROM landing_line_comments
WHERE landing_id = sqlc.arg(landing_id)
ORDER BY file_path, line, id;

-- Edit a line comment's text.
-- name: UpdateLandingLineComment :one
UPDATE landing_line_comments SET body = sqlc.arg(body)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Mark a line comment resolved, by whom and when; NULL if it already was.
-- name: ResolveLandingLineComment :one
UPDATE landing_line_comments
SET is_resolved = true, resolved_by = sqlc.narg(resolved_by), resolved_at = now()
WHERE id = sqlc.arg(id) AND NOT is_resolved
RETURNING *;

-- Reopen a resolved line comment; NULL if it was not resolved.
-- name: UnresolveLandingLineComment :one
UPDATE landing_line_comments
SET is_resolved = false, resolved_by = NULL, resolved_at = NULL
WHERE id = sqlc.arg(id) AND is_resolved
RETURNING *;

-- How many line comments of a request are still unresolved (blocks landing).
-- name: CountUnresolvedLandingLineComments :one
SELECT count(*) AS unresolved
FROM landing_line_comments
WHERE landing_id = sqlc.arg(landing_id) AND NOT is_resolved;

-- Delete a line comment.
-- name: DeleteLandingLineComment :execrows
DELETE FROM landing_line_comments WHERE id = sqlc.arg(id);
