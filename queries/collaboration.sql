-- Star a repository. Idempotent: 1 when newly starred, 0 when already starred.
-- name: StarRepository :execrows
INSERT INTO stars (user_id, repository_id)
VALUES (sqlc.arg(user_id), sqlc.arg(repository_id))
ON CONFLICT DO NOTHING;

-- Unstar; 0 when it was not starred.
-- name: UnstarRepository :execrows
DELETE FROM stars WHERE user_id = sqlc.arg(user_id) AND repository_id = sqlc.arg(repository_id);

-- Whether this user starred this repository (for the star button).
-- name: IsRepositoryStarred :one
SELECT EXISTS (
    SELECT 1 FROM stars WHERE user_id = sqlc.arg(user_id) AND repository_id = sqlc.arg(repository_id)
) AS starred;

-- How many users starred a repository.
-- name: CountStars :one
SELECT count(*) AS star_count FROM stars WHERE repository_id = sqlc.arg(repository_id);

-- Who starred a repository, most recent first, by keyset (cursor = last row's
-- starred_at and user id; NULL for the first page).
-- name: ListStargazers :many
SELECT u.id AS user_id, u.username, u.display_name, u.avatar_url, s.created_at AS starred_at
FROM stars s
JOIN users u ON u.id = s.user_id
WHERE s.repository_id = sqlc.arg(repository_id)
  AND (s.created_at, s.user_id)
       < (COALESCE(sqlc.narg(before_starred_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_user_id)::bigint, 0))
ORDER BY s.created_at DESC, s.user_id DESC
LIMIT sqlc.arg(page_size);

-- Repositories a user starred, most recent first, by keyset. Private ones only
-- show to their owner (viewer_id).
-- name: ListStarredRepositories :many
SELECT r.id AS repository_id, r.owner_id, r.name, r.description, r.is_public,
       s.created_at AS starred_at
FROM stars s
JOIN repositories r ON r.id = s.repository_id
WHERE s.user_id = sqlc.arg(user_id)
  AND (r.is_public OR r.owner_id = sqlc.narg(viewer_id)::bigint)
  AND (s.created_at, s.repository_id)
       < (COALESCE(sqlc.narg(before_starred_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_repository_id)::bigint, 0))
ORDER BY s.created_at DESC, s.repository_id DESC
LIMIT sqlc.arg(page_size);

-- Watch a repository with a mode, or change the mode of an existing watch.
-- name: WatchRepository :one
INSERT INTO watches (user_id, repository_id, mode)
VALUES (sqlc.arg(user_id), sqlc.arg(repository_id), sqlc.arg(mode))
ON CONFLICT (user_id, repository_id) DO UPDATE SET mode = EXCLUDED.mode
RETURNING *;

-- Stop watching; 0 when there was no watch.
-- name: UnwatchRepository :execrows
DELETE FROM watches WHERE user_id = sqlc.arg(user_id) AND repository_id = sqlc.arg(repository_id);

-- This user's watch on a repository, if any (for the watch button).
-- name: GetWatch :one
SELECT * FROM watches WHERE user_id = sqlc.arg(user_id) AND repository_id = sqlc.arg(repository_id);

-- Watchers shown on the repository page (ignoring ones don't count).
-- name: CountWatchers :one
SELECT count(*) AS watcher_count FROM watches
WHERE repository_id = sqlc.arg(repository_id) AND mode <> 'ignoring';

-- Watchers with a given mode (e.g. 'watching' to fan out notifications), most
-- recent first, by keyset on (watched_at, user id).
-- name: ListWatchers :many
SELECT u.id AS user_id, u.username, u.email, w.mode, w.created_at AS watched_at
FROM watches w
JOIN users u ON u.id = w.user_id
WHERE w.repository_id = sqlc.arg(repository_id)
  AND w.mode = sqlc.arg(mode)
  AND u.is_active
  AND (w.created_at, w.user_id)
       < (COALESCE(sqlc.narg(before_watched_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_user_id)::bigint, 0))
ORDER BY w.created_at DESC, w.user_id DESC
LIMIT sqlc.arg(page_size);

-- Star and watcher counts for a repository header, in one round trip.
-- name: GetRepositorySocialCounts :one
SELECT
    (SELECT count(*) FROM stars s WHERE s.repository_id = sqlc.arg(repository_id)) AS "star_count!",
    (SELECT count(*) FROM watches w
     WHERE w.repository_id = sqlc.arg(repository_id) AND w.mode <> 'ignoring') AS "watcher_count!";
