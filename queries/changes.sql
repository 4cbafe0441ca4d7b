-- Record a Jujutsu change as jj reports it. A change keeps its change_id across
-- rewrites, so seeing it again updates the commit, description, parents and flags.
-- name: UpsertChange :one
INSERT INTO changes (
    repository_id, change_id, commit_id, description, author_name, author_email,
    author_id, parent_change_ids, is_empty, has_conflict, authored_at
) VALUES (
    sqlc.arg(repository_id), sqlc.arg(change_id), sqlc.arg(commit_id), sqlc.arg(description),
    sqlc.arg(author_name), sqlc.arg(author_email), sqlc.narg(author_id),
    sqlc.arg(parent_change_ids)::text[], sqlc.arg(is_empty), sqlc.arg(has_conflict),
    sqlc.arg(authored_at)
)
ON CONFLICT (repository_id, change_id) DO UPDATE
SET commit_id = EXCLUDED.commit_id,
    description = EXCLUDED.description,
    author_name = EXCLUDED.author_name,
    author_email = EXCLUDED.author_email,
    author_id = EXCLUDED.author_id,
    parent_change_ids = EXCLUDED.parent_change_ids,
    is_empty = EXCLUDED.is_empty,
    has_conflict = EXCLUDED.has_conflict,
    authored_at = EXCLUDED.authored_at
RETURNING *;

-- A change of a repository by its jj change id.
-- name: GetChangeByChangeId :one
SELECT * FROM changes
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id);

-- The change currently held by a commit.
-- name: GetChangeByCommitId :one
SELECT * FROM changes
WHERE repository_id = sqlc.arg(repository_id) AND commit_id = sqlc.arg(commit_id)
ORDER BY id
LIMIT 1;

-- One page of a repository's changes, newest first. Pass the last row's
-- created_at and id to get the next page.
-- name: ListChanges :many
SELECT * FROM changes
WHERE repository_id = sqlc.arg(repository_id)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- The recorded parents of a change, in jj's parent order.
-- name: ListChangeParents :many
SELECT p.* FROM changes AS c
JOIN changes AS p
  ON p.repository_id = c.repository_id AND p.change_id = ANY (c.parent_change_ids)
WHERE c.repository_id = sqlc.arg(repository_id) AND c.change_id = sqlc.arg(change_id)
ORDER BY array_position(c.parent_change_ids, p.change_id);

-- The recorded children of a change (changes listing it as a parent), oldest first.
-- name: ListChangeChildren :many
SELECT * FROM changes
WHERE repository_id = sqlc.arg(repository_id)
  AND parent_change_ids @> ARRAY[sqlc.arg(change_id)::text]
ORDER BY created_at, id;

-- Forget a change (abandoned in jj).
-- name: DeleteChange :execrows
DELETE FROM changes
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id);

-- Record one file touched by a change with its diff stats; recording the same
-- path again (after a rewrite) replaces the stats.
-- name: UpsertFileTracker :one
INSERT INTO file_trackers (repository_id, change_id, file_path, old_path, kind, additions, deletions)
VALUES (
    sqlc.arg(repository_id), sqlc.arg(change_id), sqlc.arg(file_path), sqlc.narg(old_path),
    sqlc.arg(kind), sqlc.arg(additions), sqlc.arg(deletions)
)
ON CONFLICT (repository_id, change_id, file_path) DO UPDATE
SET old_path = EXCLUDED.old_path,
    kind = EXCLUDED.kind,
    additions = EXCLUDED.additions,
    deletions = EXCLUDED.deletions
RETURNING *;

-- The files touched by a change, by path.
-- name: ListFileTrackers :many
SELECT * FROM file_trackers
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id)
ORDER BY file_path;

-- Diff totals of a change: files touched, lines added and deleted.
-- name: SummarizeFileTrackers :one
SELECT
    count(*) AS files,
    COALESCE(sum(additions), 0)::bigint AS "additions!",
    COALESCE(sum(deletions), 0)::bigint AS "deletions!"
FROM file_trackers
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id);

-- Drop a change's file records before recording them afresh after a rewrite.
-- name: DeleteFileTrackers :execrows
DELETE FROM file_trackers
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id);

-- Append an operation to a repository's jj operation log. Importing the same
-- operation twice is harmless: the second call inserts nothing and returns NULL.
-- name: AppendJjOperation :one
INSERT INTO jj_operations (
    repository_id, operation_id, parent_operation_ids, description, user_id, metadata
) VALUES (
    sqlc.arg(repository_id), sqlc.arg(operation_id), sqlc.arg(parent_operation_ids)::text[],
    sqlc.arg(description), sqlc.narg(user_id), sqlc.arg(metadata)::jsonb
)
ON CONFLICT (repository_id, operation_id) DO NOTHING
RETURNING *;

-- One operation of a repository's log by its jj operation id.
-- name: GetJjOperation :one
SELECT * FROM jj_operations
WHERE repository_id = sqlc.arg(repository_id) AND operation_id = sqlc.arg(operation_id);

-- One page of the operation log, most recent first (what `jj op log` shows).
-- Pass the last row's created_at and id to get the next page.
-- name: ListJjOperations :many
SELECT * FROM jj_operations
WHERE repository_id = sqlc.arg(repository_id)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Record a working-copy snapshot so the edit can be restored later.
-- name: RecordSnapshot :one
INSERT INTO snapshot_history (repository_id, change_id, commit_id, operation_id, description, created_by)
VALUES (
    sqlc.arg(repository_id), sqlc.arg(change_id), sqlc.arg(commit_id), sqlc.narg(operation_id),
    sqlc.arg(description), sqlc.narg(created_by)
)
RETURNING *;

-- One page of a repository's snapshots, latest first.
-- name: ListSnapshots :many
SELECT * FROM snapshot_history
WHERE repository_id = sqlc.arg(repository_id)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- The latest snapshots of one change, latest first.
-- name: ListChangeSnapshots :many
SELECT * FROM snapshot_history
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);
