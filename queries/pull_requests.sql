-- Open a pull request; its number comes from the base repository's shared
-- issue/PR counter, so numbers never collide under concurrency.
-- name: CreatePullRequest :one
INSERT INTO pull_requests (
    base_repository_id, pr_number, title, body, author_id,
    head_repository_id, head_branch, base_branch
) VALUES (
    sqlc.arg(base_repository_id), get_next_issue_number(sqlc.arg(base_repository_id)),
    sqlc.arg(title), sqlc.arg(body), sqlc.narg(author_id),
    sqlc.narg(head_repository_id), sqlc.arg(head_branch), sqlc.arg(base_branch)
)
RETURNING *;

-- A pull request by id.
-- name: GetPullRequest :one
SELECT * FROM pull_requests WHERE id = sqlc.arg(id);

-- A pull request by its number in the base repository (what URLs carry).
-- name: GetPullRequestByNumber :one
SELECT * FROM pull_requests
WHERE base_repository_id = sqlc.arg(base_repository_id) AND pr_number = sqlc.arg(pr_number);

-- The open pull request from a head branch into a base branch, if any (to avoid
-- opening a duplicate).
-- name: GetOpenPullRequestForBranches :one
SELECT * FROM pull_requests
WHERE base_repository_id = sqlc.arg(base_repository_id)
  AND head_repository_id = sqlc.arg(head_repository_id)::bigint
  AND head_branch = sqlc.arg(head_branch)
  AND base_branch = sqlc.arg(base_branch)
  AND state = 'open'
ORDER BY id DESC
LIMIT 1;

-- One page of a repository's pull requests in a state, newest first. Pass the
-- last row's created_at and id to get the next page.
-- name: ListPullRequestsByState :many
SELECT * FROM pull_requests
WHERE base_repository_id = sqlc.arg(base_repository_id)
  AND state = sqlc.arg(state)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- How many pull requests a repository has in each state (tab counters).
-- name: CountPullRequestsByState :many
SELECT state, count(*) AS total
FROM pull_requests
WHERE base_repository_id = sqlc.arg(base_repository_id)
GROUP BY state
ORDER BY state;

-- Edit the title, body and target branch of an open pull request; NULL once it
-- is closed or merged.
-- name: UpdatePullRequest :one
UPDATE pull_requests
SET title = sqlc.arg(title), body = sqlc.arg(body), base_branch = sqlc.arg(base_branch)
WHERE id = sqlc.arg(id) AND state = 'open'
RETURNING *;

-- Store the diff statistics and merge base computed for the current head.
-- name: UpdatePullRequestStats :one
UPDATE pull_requests
SET additions = sqlc.arg(additions),
    deletions = sqlc.arg(deletions),
    changed_files = sqlc.arg(changed_files),
    has_conflicts = sqlc.arg(has_conflicts),
    merge_base = sqlc.narg(merge_base)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Merge an open, conflict-free pull request, recording how, as which commit, by
-- whom and when. Returns NULL (and changes nothing) otherwise.
-- name: MergePullRequest :one
UPDATE pull_requests
SET state = 'merged',
    merge_style = sqlc.arg(merge_style)::merge_style,
    merged_commit_id = sqlc.arg(merged_commit_id)::text,
    merged_by = sqlc.narg(merged_by),
    merged_at = now(),
    closed_at = now()
WHERE id = sqlc.arg(id) AND state = 'open' AND NOT has_conflicts
RETURNING *;

-- Close an open pull request without merging; NULL unless it was open.
-- name: ClosePullRequest :one
UPDATE pull_requests
SET state = 'closed', closed_at = now()
WHERE id = sqlc.arg(id) AND state = 'open'
RETURNING *;

-- Reopen a closed (not merged) pull request; NULL otherwise.
-- name: ReopenPullRequest :one
UPDATE pull_requests
SET state = 'open', closed_at = NULL
WHERE id = sqlc.arg(id) AND state = 'closed'
RETURNING *;

-- Delete a pull request with its reviews, comments and conflicts.
-- name: DeletePullRequest :execrows
DELETE FROM pull_requests WHERE id = sqlc.arg(id);

-- Start a review (state pending until submitted) against a head commit.
-- name: CreateReview :one
INSERT INTO reviews (pull_request_id, reviewer_id, body, commit_id)
VALUES (sqlc.arg(pull_request_id), sqlc.narg(reviewer_id), sqlc.arg(body), sqlc.narg(commit_id))
RETURNING *;

-- A review by id.
-- name: GetReview :one
SELECT * FROM reviews WHERE id = sqlc.arg(id);

-- The reviews of a pull request, oldest first.
-- name: ListReviews :many
SELECT * FROM reviews
WHERE pull_request_id = sqlc.arg(pull_request_id)
ORDER BY created_at, id;

-- Submit a pending review with its verdict; NULL if it was already submitted.
-- name: SubmitReview :one
UPDATE reviews
SET state = sqlc.arg(state), body = sqlc.arg(body), submitted_at = now()
WHERE id = sqlc.arg(id) AND state = 'pending'
RETURNING *;

-- Dismiss a submitted review (e.g. after new commits); NULL if it was pending or
-- already dismissed.
-- name: DismissReview :one
UPDATE reviews SET state = 'dismissed'
WHERE id = sqlc.arg(id) AND state NOT IN ('pending', 'dismissed')
RETURNING *;

-- How many distinct reviewers currently approve or request changes.
-- name: CountReviewVerdicts :one
SELECT
    count(DISTINCT reviewer_id) FILTER (WHERE state = 'approved') AS approvals,
    count(DISTINCT reviewer_id) FILTER (WHERE state = 'changes_requested') AS changes_requested
FROM reviews
WHERE pull_request_id = sqlc.arg(pull_request_id);

-- Delete a review with its comments.
-- name: DeleteReview :execrows
DELETE FROM reviews WHERE id = sqlc.arg(id);

-- Add an inline comment to a review; the pull request is taken from the review,
-- so the two can never disagree. NULL if the review does not exist.
-- name: CreateReviewComment :one
INSERT INTO review_comments (
    review_id, pull_request_id, author_id, file_path, line, side, body, commit_id, in_reply_to_id
)
SELECT r.id, r.pull_request_id, sqlc.narg(author_id), sqlc.arg(file_path), sqlc.arg(line),
       sqlc.arg(side), sqlc.arg(body), r.commit_id, sqlc.narg(in_reply_to_id)
FROM reviews AS r
WHERE r.id = sqlc.arg(review_id)
RETURNING *;

-- A review comment by id.
-- name: GetReviewComment :one
SELECT * FROM review_comments WHERE id = sqlc.arg(id);

-- All inline comments of a pull request in reading order: by file, line, then
-- creation.
-- name: ListReviewCommentsByPullRequest :many
SELECT * FROM review_comments
WHERE pull_request_id = sqlc.arg(pull_request_id)
ORDER BY file_path, line, id;

-- The comments of one review, in creation order.
-- name: ListReviewCommentsByReview :many
SELECT * FROM review_comments
WHERE review_id = sqlc.arg(review_id)
ORDER BY id;

-- Edit an inline comment's text.
-- name: UpdateReviewComment :one
UPDATE review_comments SET body = sqlc.arg(body)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Resolve or reopen an inline comment thread; NULL if it already had that state.
-- name: SetReviewCommentResolved :one
UPDATE review_comments SET is_resolved = sqlc.arg(is_resolved)
WHERE id = sqlc.arg(id) AND is_resolved <> sqlc.arg(is_resolved)
RETURNING *;

-- Delete an inline comment and its replies.
-- name: DeleteReviewComment :execrows
DELETE FROM review_comments WHERE id = sqlc.arg(id);

-- Record a conflicted file of a change (one row per repository, change and file);
-- recording it again refreshes the details and reopens it if it was resolved.
-- name: RecordConflict :one
INSERT INTO conflicts (repository_id, pull_request_id, change_id, file_path, kind, details)
VALUES (
    sqlc.arg(repository_id), sqlc.narg(pull_request_id), sqlc.arg(change_id),
    sqlc.arg(file_path), sqlc.arg(kind), sqlc.arg(details)::jsonb
)
ON CONFLICT (repository_id, change_id, file_path) DO UPDATE
SET pull_request_id = EXCLUDED.pull_request_id,
    kind = EXCLUDED.kind,
    details = EXCLUDED.details,
    resolved_by = NULL,
    resolved_at = NULL
RETURNING *;

-- The conflicts of a pull request by file; unresolved and resolved alike.
-- name: ListPullRequestConflicts :many
SELECT * FROM conflicts
WHERE pull_request_id = sqlc.arg(pull_request_id)
ORDER BY file_path, id;

-- One page of a repository's unresolved conflicts, newest first.
-- name: ListUnresolvedConflicts :many
SELECT * FROM conflicts
WHERE repository_id = sqlc.arg(repository_id)
  AND resolved_at IS NULL
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Mark a conflict resolved, by whom and when; NULL if it already was.
-- name: ResolveConflict :one
UPDATE conflicts SET resolved_by = sqlc.narg(resolved_by), resolved_at = now()
WHERE id = sqlc.arg(id) AND resolved_at IS NULL
RETURNING *;

-- How many conflicts of a pull request are still unresolved (merge gate).
-- name: CountUnresolvedPullRequestConflicts :one
SELECT count(*) AS unresolved
FROM conflicts
WHERE pull_request_id = sqlc.arg(pull_request_id) AND resolved_at IS NULL;
