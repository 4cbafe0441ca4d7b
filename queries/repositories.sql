-- Create a repository; the name must be unique per owner, case-insensitively.
-- name: CreateRepository :one
INSERT INTO repositories (owner_id, name, description, is_public, default_branch, topics)
VALUES (
    sqlc.arg(owner_id), sqlc.arg(name), sqlc.arg(description), sqlc.arg(is_public),
    sqlc.arg(default_branch), sqlc.arg(topics)::text[]
)
RETURNING *;

-- The repository with this id.
-- name: GetRepositoryByID :one
SELECT * FROM repositories WHERE id = sqlc.arg(id);

-- Resolve an "owner/name" URL, both parts case-insensitively.
-- name: GetRepositoryByOwnerAndName :one
SELECT r.*
FROM repositories r
JOIN users u ON u.id = r.owner_id
WHERE lower(u.username) = lower(sqlc.arg(owner_username))
  AND lower(r.name) = lower(sqlc.arg(name));

-- An owner's repositories, newest first, by keyset (cursor = last row's
-- created_at and id; NULL for the first page). Private ones only when
-- include_private (the owner looking at their own list).
-- name: ListRepositoriesByOwner :many
SELECT * FROM repositories
WHERE owner_id = sqlc.arg(owner_id)
  AND (is_public OR sqlc.arg(include_private)::boolean)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 0))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- The public catalogue, newest first, by keyset (backed by idx_repositories_public).
-- name: ListPublicRepositories :many
SELECT * FROM repositories
WHERE is_public
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 0))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Public repositories tagged with a topic, newest first, by keyset.
-- name: ListPublicRepositoriesByTopic :many
SELECT * FROM repositories
WHERE is_public
  AND topics @> ARRAY[lower(sqlc.arg(topic)::text)]
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 0))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Replace the settings a repository admin can edit.
-- name: UpdateRepository :one
UPDATE repositories
SET description = sqlc.arg(description),
    is_public = sqlc.arg(is_public),
    is_archived = sqlc.arg(is_archived),
    default_branch = sqlc.arg(default_branch)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Rename a repository (unique per owner, case-insensitively).
-- name: RenameRepository :one
UPDATE repositories SET name = sqlc.arg(name)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Replace the topics, normalised: trimmed, lower-cased, blanks and duplicates
-- dropped, sorted.
-- name: SetRepositoryTopics :one
UPDATE repositories
SET topics = ARRAY(
    SELECT DISTINCT lower(btrim(t))
    FROM unnest(sqlc.arg(topics)::text[]) AS t
    WHERE btrim(t) <> ''
    ORDER BY 1
)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Delete a repository and everything it owns (issues, branches, runs...).
-- name: DeleteRepository :execrows
DELETE FROM repositories WHERE id = sqlc.arg(id);

-- Record where a branch points after a push (creates it on first push).
-- name: UpsertBranch :one
INSERT INTO branches (repository_id, name, commit_id, pusher_id)
VALUES (sqlc.arg(repository_id), sqlc.arg(name), sqlc.arg(commit_id), sqlc.narg(pusher_id))
ON CONFLICT (repository_id, name)
DO UPDATE SET commit_id = EXCLUDED.commit_id, pusher_id = EXCLUDED.pusher_id
RETURNING *;

-- A branch of a repository by exact name.
-- name: GetBranch :one
SELECT * FROM branches
WHERE repository_id = sqlc.arg(repository_id) AND name = sqlc.arg(name);

-- A repository's branches by name, by keyset: pass the last name seen (NULL for
-- the first page).
-- name: ListBranches :many
SELECT * FROM branches
WHERE repository_id = sqlc.arg(repository_id)
  AND name > COALESCE(sqlc.narg(after_name)::text, '')
ORDER BY name
LIMIT sqlc.arg(page_size);

-- Delete a branch; 0 when it did not exist.
-- name: DeleteBranch :execrows
DELETE FROM branches
WHERE repository_id = sqlc.arg(repository_id) AND name = sqlc.arg(name);

-- Rename a branch in one statement: move the branch, move the repository's
-- default branch if it was this one, and record the rename so old links resolve.
-- None when there is no branch from_name; UniqueViolation when to_name exists.
-- name: RenameBranch :one
WITH moved AS (
    UPDATE branches b SET name = sqlc.arg(to_name)::text
    WHERE b.repository_id = sqlc.arg(repository_id) AND b.name = sqlc.arg(from_name)::text
    RETURNING b.repository_id
), default_moved AS (
    UPDATE repositories r SET default_branch = sqlc.arg(to_name)::text
    WHERE r.id IN (SELECT moved.repository_id FROM moved)
      AND r.default_branch = sqlc.arg(from_name)::text
    RETURNING r.id
)
INSERT INTO renamed_branches (repository_id, from_name, to_name, renamed_by)
SELECT moved.repository_id, sqlc.arg(from_name)::text, sqlc.arg(to_name)::text,
       sqlc.narg(renamed_by)::bigint
FROM moved
WHERE (SELECT count(*) FROM default_moved) >= 0
RETURNING *;

-- Follow renames from an old branch name to its current name: each step takes
-- the first rename of that name made after the previous step, so a rename back
-- (a -> b -> a) ends where it should and chains always terminate. Returns the
-- name itself when it was never renamed.
-- name: ResolveBranchName :one
WITH RECURSIVE chain (name, renamed_at, rename_id, depth) AS (
    SELECT sqlc.arg(name)::text, '-infinity'::timestamptz, 0::bigint, 0
    UNION ALL
    SELECT step.to_name, step.created_at, step.id, chain.depth + 1
    FROM chain
    CROSS JOIN LATERAL (
        SELECT rb.to_name, rb.created_at, rb.id
        FROM renamed_branches rb
        WHERE rb.repository_id = sqlc.arg(repository_id)
          AND rb.from_name = chain.name
          AND (rb.created_at, rb.id) > (chain.renamed_at, chain.rename_id)
        ORDER BY rb.created_at, rb.id
        LIMIT 1
    ) AS step
)
SELECT name::text AS "current_name!" FROM chain ORDER BY depth DESC LIMIT 1;

-- Renames of a repository's branches, newest first.
-- name: ListRenamedBranches :many
SELECT * FROM renamed_branches
WHERE repository_id = sqlc.arg(repository_id)
ORDER BY created_at DESC, id DESC;

-- Point a Jujutsu bookmark at a change (creates or moves it).
-- name: UpsertBookmark :one
INSERT INTO bookmarks (repository_id, name, change_id, commit_id)
VALUES (sqlc.arg(repository_id), sqlc.arg(name), sqlc.arg(change_id), sqlc.narg(commit_id))
ON CONFLICT (repository_id, name)
DO UPDATE SET change_id = EXCLUDED.change_id, commit_id = EXCLUDED.commit_id
RETURNING *;

-- A bookmark of a repository by exact name.
-- name: GetBookmark :one
SELECT * FROM bookmarks
WHERE repository_id = sqlc.arg(repository_id) AND name = sqlc.arg(name);

-- A repository's bookmarks by name, by keyset on the last name seen.
-- name: ListBookmarks :many
SELECT * FROM bookmarks
WHERE repository_id = sqlc.arg(repository_id)
  AND name > COALESCE(sqlc.narg(after_name)::text, '')
ORDER BY name
LIMIT sqlc.arg(page_size);

-- Bookmarks pointing at a change (to label it in the log).
-- name: ListBookmarksForChange :many
SELECT * FROM bookmarks
WHERE repository_id = sqlc.arg(repository_id) AND change_id = sqlc.arg(change_id)
ORDER BY name;

-- Delete a bookmark; 0 when it did not exist.
-- name: DeleteBookmark :execrows
DELETE FROM bookmarks
WHERE repository_id = sqlc.arg(repository_id) AND name = sqlc.arg(name);

-- Add a branch protection rule (pattern: a name or a glob with *).
-- name: CreateProtectedBranch :one
INSERT INTO protected_branches (
    repository_id, pattern, priority, required_approvals,
    enable_push, push_allowlist_user_ids, enable_force_push, force_push_allowlist_user_ids
) VALUES (
    sqlc.arg(repository_id), sqlc.arg(pattern), sqlc.arg(priority), sqlc.arg(required_approvals),
    sqlc.arg(enable_push), sqlc.arg(push_allowlist_user_ids)::bigint[],
    sqlc.arg(enable_force_push), sqlc.arg(force_push_allowlist_user_ids)::bigint[]
)
RETURNING *;

-- A protection rule by id.
-- name: GetProtectedBranch :one
SELECT * FROM protected_branches WHERE id = sqlc.arg(id);

-- A repository's rules in the order they are applied: highest priority first.
-- name: ListProtectedBranches :many
SELECT * FROM protected_branches
WHERE repository_id = sqlc.arg(repository_id)
ORDER BY priority DESC, id;

-- The rule that governs a branch: the highest-priority rule whose pattern
-- matches the name, where * in a pattern matches any run of characters and every
-- other character (including % and _) matches only itself. None = unprotected.
-- name: MatchProtectedBranch :one
SELECT * FROM protected_branches
WHERE repository_id = sqlc.arg(repository_id)
  AND sqlc.arg(branch_name)::text LIKE replace(
        replace(replace(replace(pattern, '\', '\\'), '%', '\%'), '_', '\_'),
        '*', '%')
ORDER BY priority DESC, id
LIMIT 1;

-- Replace a rule's settings.
-- name: UpdateProtectedBranch :one
UPDATE protected_branches
SET pattern = sqlc.arg(pattern),
    priority = sqlc.arg(priority),
    required_approvals = sqlc.arg(required_approvals),
    enable_push = sqlc.arg(enable_push),
    push_allowlist_user_ids = sqlc.arg(push_allowlist_user_ids)::bigint[],
    enable_force_push = sqlc.arg(enable_force_push),
    force_push_allowlist_user_ids = sqlc.arg(force_push_allowlist_user_ids)::bigint[]
WHERE id = sqlc.arg(id)
RETURNING *;

-- Delete a protection rule; 0 when it did not exist.
-- name: DeleteProtectedBranch :execrows
DELETE FROM protected_branches WHERE id = sqlc.arg(id);
