-- Report the status of one check (context) on a commit. There is one current
-- status per repository, commit and context: reporting again replaces it.
-- name: UpsertCommitStatus :one
INSERT INTO commit_statuses (
    repository_id, commit_sha, context, state, target_url, description, creator_id, workflow_run_id
) VALUES (
    sqlc.arg(repository_id), sqlc.arg(commit_sha), sqlc.arg(context), sqlc.arg(state),
    sqlc.narg(target_url), sqlc.arg(description), sqlc.narg(creator_id), sqlc.narg(workflow_run_id)
)
ON CONFLICT (repository_id, commit_sha, context) DO UPDATE
SET state = EXCLUDED.state,
    target_url = EXCLUDED.target_url,
    description = EXCLUDED.description,
    creator_id = EXCLUDED.creator_id,
    workflow_run_id = EXCLUDED.workflow_run_id
RETURNING *;

-- The current statuses of a commit, one per context, by context name.
-- name: ListCommitStatuses :many
SELECT * FROM commit_statuses
WHERE repository_id = sqlc.arg(repository_id) AND commit_sha = sqlc.arg(commit_sha)
ORDER BY context;

-- The combined state of a commit: failure if any check failed or errored,
-- otherwise pending if any check is pending or none has reported, otherwise
-- success; with the number of checks in each state.
-- name: GetCombinedCommitStatus :one
SELECT
    (CASE
        WHEN bool_or(state IN ('failure', 'error')) THEN 'failure'
        WHEN count(*) = 0 OR bool_or(state = 'pending') THEN 'pending'
        ELSE 'success'
    END)::commit_state AS "state!",
    count(*) AS total,
    count(*) FILTER (WHERE state = 'success') AS successes,
    count(*) FILTER (WHERE state = 'pending') AS pending,
    count(*) FILTER (WHERE state IN ('failure', 'error')) AS failures
FROM commit_statuses
WHERE repository_id = sqlc.arg(repository_id) AND commit_sha = sqlc.arg(commit_sha);

-- Remove one context's status from a commit (a check that no longer applies).
-- name: DeleteCommitStatus :execrows
DELETE FROM commit_statuses
WHERE repository_id = sqlc.arg(repository_id)
  AND commit_sha = sqlc.arg(commit_sha)
  AND context = sqlc.arg(context);
