-- Create an account. The username keeps its case for display but must be unique
-- case-insensitively; the wallet address is stored lower-case (canonical form).
-- name: CreateUser :one
INSERT INTO users (username, email, display_name, bio, avatar_url, wallet_address, is_admin)
VALUES (
    sqlc.arg(username), sqlc.narg(email), sqlc.arg(display_name), sqlc.arg(bio),
    sqlc.narg(avatar_url), lower(sqlc.narg(wallet_address)::text), sqlc.arg(is_admin)
)
RETURNING *;

-- The user with this id.
-- name: GetUserByID :one
SELECT * FROM users WHERE id = sqlc.arg(id);

-- Look a user up by name, case-insensitively (backed by users_username_lower_key).
-- name: GetUserByUsername :one
SELECT * FROM users WHERE lower(username) = lower(sqlc.arg(username));

-- Look a user up by Ethereum address; accepts any case (e.g. EIP-55 checksummed).
-- name: GetUserByWallet :one
SELECT * FROM users WHERE wallet_address = lower(sqlc.arg(wallet_address));

-- Look a user up by contact email, case-insensitively.
-- name: GetUserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(sqlc.arg(email));

-- Users newest first, one page at a time: pass the last row's created_at and id
-- as the cursor (both NULL for the first page). Optionally only active users.
-- A NULL cursor becomes ('infinity', 0) instead of an OR, so even a cached
-- generic plan keeps the row comparison as an index condition (an OR made deep
-- pages scan and discard every earlier row).
-- name: ListUsers :many
SELECT * FROM users
WHERE (NOT sqlc.arg(only_active)::boolean OR is_active)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 0))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Replace the editable profile fields; None when the user does not exist.
-- name: UpdateUserProfile :one
UPDATE users
SET display_name = sqlc.arg(display_name),
    bio = sqlc.arg(bio),
    avatar_url = sqlc.narg(avatar_url)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Link (or unlink with None) an Ethereum wallet; stored lower-case.
-- name: SetUserWallet :one
UPDATE users SET wallet_address = lower(sqlc.narg(wallet_address)::text)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Admin switches: deactivate, grant admin, block sign-in.
-- name: SetUserAccountFlags :one
UPDATE users
SET is_active = sqlc.arg(is_active),
    is_admin = sqlc.arg(is_admin),
    prohibit_login = sqlc.arg(prohibit_login)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Stamp a successful sign-in. Only users allowed to sign in (active, not
-- prohibited) are stamped: None means the login must be refused.
-- name: RecordUserLogin :one
UPDATE users SET last_login_at = now()
WHERE id = sqlc.arg(id) AND is_active AND NOT prohibit_login
RETURNING *;

-- Delete an account with everything it owns (repositories, keys, sessions);
-- issues and comments it wrote stay, with the author set to NULL.
-- name: DeleteUser :execrows
DELETE FROM users WHERE id = sqlc.arg(id);

-- A user's profile header: the user and the names of their repositories, sorted
-- (private ones only when include_private, e.g. for the owner themself).
-- name: GetUserWithRepositoryNames :one
SELECT u.id, u.username, u.display_name, u.avatar_url,
       COALESCE(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.id IS NOT NULL), '{}')::text[]
           AS repository_names
FROM users u
LEFT JOIN repositories r
       ON r.owner_id = u.id AND (r.is_public OR sqlc.arg(include_private)::boolean)
WHERE u.id = sqlc.arg(id)
GROUP BY u.id;

-- Add an address to a user (not primary; see SetPrimaryEmailAddress).
-- name: AddEmailAddress :one
INSERT INTO email_addresses (user_id, email, is_verified)
VALUES (sqlc.arg(user_id), sqlc.arg(email), sqlc.arg(is_verified))
RETURNING *;

-- Who owns an address, case-insensitively.
-- name: GetEmailAddressByEmail :one
SELECT * FROM email_addresses WHERE lower(email) = lower(sqlc.arg(email));

-- A user's addresses, primary first, then in the order they were added.
-- name: ListEmailAddresses :many
SELECT * FROM email_addresses
WHERE user_id = sqlc.arg(user_id)
ORDER BY is_primary DESC, created_at, id;

-- Mark an address verified (after the user followed the link we mailed).
-- name: VerifyEmailAddress :one
UPDATE email_addresses SET is_verified = true
WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id)
RETURNING *;

-- Make a verified address the user's primary one, in one statement: the old
-- primary is cleared first (the CTE is forced to run before the final UPDATE, so
-- the one-primary index never sees two), and users.email mirrors the new primary.
-- None when the address is not the user's or is not verified.
-- name: SetPrimaryEmailAddress :one
WITH target AS (
    SELECT a.id, a.email FROM email_addresses a
    WHERE a.id = sqlc.arg(email_id) AND a.user_id = sqlc.arg(user_id) AND a.is_verified
    FOR UPDATE
), cleared AS (
    UPDATE email_addresses e SET is_primary = false
    FROM target
    WHERE e.user_id = sqlc.arg(user_id) AND e.is_primary AND e.id <> target.id
    RETURNING e.id
), mirrored AS (
    UPDATE users u SET email = target.email
    FROM target
    WHERE u.id = sqlc.arg(user_id)
    RETURNING u.id
)
UPDATE email_addresses e SET is_primary = true
FROM target
WHERE e.id = target.id
  AND (SELECT count(*) FROM cleared) >= 0
  AND (SELECT count(*) FROM mirrored) >= 0
RETURNING e.*;

-- Remove an address; the primary one cannot be removed (0 rows).
-- name: DeleteEmailAddress :execrows
DELETE FROM email_addresses
WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id) AND NOT is_primary;
