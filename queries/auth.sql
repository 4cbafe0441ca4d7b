-- Start a browser session. Only the sha256 (lower-case hex) of the cookie key is
-- stored, so a database leak does not leak live sessions. None (nothing written)
-- when the user may not sign in or does not exist; an expires_at not after now()
-- violates auth_sessions_expiry_after_creation.
-- name: CreateAuthSession :one
INSERT INTO auth_sessions (user_id, session_key_hash, user_agent, expires_at)
SELECT sqlc.arg(user_id), sqlc.arg(session_key_hash), sqlc.arg(user_agent), sqlc.arg(expires_at)
WHERE user_may_sign_in(sqlc.arg(user_id))
RETURNING *;

-- The session behind a cookie, if it has not expired and its user may still sign in.
-- name: GetValidAuthSession :one
SELECT * FROM auth_sessions
WHERE session_key_hash = sqlc.arg(session_key_hash)
  AND expires_at > now()
  AND user_may_sign_in(user_id);

-- Sliding expiry without a write per request: extend a valid session (unexpired,
-- its user may sign in) to now() + ttl only when it expires within refresh_window.
-- None when the session is invalid or not yet near expiry (then nothing is written).
-- Unless 0 < refresh_window < ttl <= 365 days, check_session_refresh() raises
-- InvalidParameterValue naming the argument, whatever the session.
-- name: RefreshAuthSession :one
UPDATE auth_sessions
SET expires_at = now() + sqlc.arg(ttl)::interval
WHERE check_session_refresh(sqlc.arg(ttl)::interval, sqlc.arg(refresh_window)::interval)
  AND session_key_hash = sqlc.arg(session_key_hash)
  AND expires_at > now()
  AND expires_at < now() + sqlc.arg(refresh_window)::interval
  AND user_may_sign_in(user_id)
RETURNING *;

-- A user's live sessions, newest first (the "where you're signed in" page).
-- name: ListUserAuthSessions :many
SELECT * FROM auth_sessions
WHERE user_id = sqlc.arg(user_id) AND expires_at > now()
ORDER BY created_at DESC, id DESC;

-- Sign out one session.
-- name: DeleteAuthSession :execrows
DELETE FROM auth_sessions WHERE session_key_hash = sqlc.arg(session_key_hash);

-- Sign out everywhere (password change, account compromise).
-- name: DeleteUserAuthSessions :execrows
DELETE FROM auth_sessions WHERE user_id = sqlc.arg(user_id);

-- Housekeeping: drop sessions that have expired.
-- name: DeleteExpiredAuthSessions :execrows
DELETE FROM auth_sessions WHERE expires_at <= now();

-- Issue a Sign-In-With-Ethereum nonce for a wallet, valid for ttl. The address is
-- stored lower-case so a checksummed address matches. None (nothing written) when
-- the wallet belongs to an account that may not sign in (wallet_may_sign_in); an
-- unknown wallet gets one (it may sign up). A ttl that is not positive violates
-- siwe_nonces_expiry_after_creation.
-- name: CreateSiweNonce :one
INSERT INTO siwe_nonces (nonce, wallet_address, expires_at)
SELECT sqlc.arg(nonce), lower(sqlc.arg(wallet_address)::text), now() + sqlc.arg(ttl)::interval
WHERE wallet_may_sign_in(sqlc.arg(wallet_address)::text)
RETURNING *;

-- Use a nonce exactly once, in one statement: only an unused, unexpired nonce
-- issued for this wallet, whose account (if any) may sign in, is consumed.
-- Concurrent callers serialise on the row lock and re-check used_at, so exactly
-- one gets the row; the rest get None.
-- name: ConsumeSiweNonce :one
UPDATE siwe_nonces
SET used_at = now()
WHERE nonce = sqlc.arg(nonce)
  AND wallet_address = lower(sqlc.arg(wallet_address)::text)
  AND used_at IS NULL
  AND expires_at > now()
  AND wallet_may_sign_in(wallet_address)
RETURNING *;

-- Housekeeping: drop expired nonces (used or not).
-- name: DeleteExpiredSiweNonces :execrows
DELETE FROM siwe_nonces WHERE expires_at <= now();

-- Create a personal access token. Pass the sha256 hex of the token and its last
-- eight characters; the token itself is shown to the user once and never stored.
-- None (nothing written) when the user may not sign in or does not exist; an
-- expires_at not after now() violates access_tokens_expiry_after_creation.
-- name: CreateAccessToken :one
INSERT INTO access_tokens (user_id, name, token_hash, token_last_eight, scopes, expires_at)
SELECT sqlc.arg(user_id), sqlc.arg(name), sqlc.arg(token_hash), sqlc.arg(token_last_eight),
       sqlc.arg(scopes)::text[], sqlc.narg(expires_at)
WHERE user_may_sign_in(sqlc.arg(user_id))
RETURNING *;

-- One of this user's tokens, for the token settings page (None if not theirs).
-- name: GetAccessToken :one
SELECT * FROM access_tokens WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id);

-- Authenticate an API request: the token with this hash, if not revoked, not
-- expired and its user may sign in; stamps last_used_at in the same statement.
-- name: ValidateAccessToken :one
UPDATE access_tokens
SET last_used_at = now()
WHERE token_hash = sqlc.arg(token_hash)
  AND revoked_at IS NULL
  AND (expires_at IS NULL OR expires_at > now())
  AND user_may_sign_in(user_id)
RETURNING *;

-- A user's tokens (revoked ones included, for the audit view), newest first.
-- name: ListAccessTokens :many
SELECT * FROM access_tokens
WHERE user_id = sqlc.arg(user_id)
ORDER BY created_at DESC, id DESC;

-- Revoke a token of this user; None if it is not theirs or already revoked.
-- name: RevokeAccessToken :one
UPDATE access_tokens SET revoked_at = now()
WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id) AND revoked_at IS NULL
RETURNING *;

-- Add an SSH public key. fingerprint is the OpenSSH "SHA256:..." form. None
-- (nothing written) when the user may not sign in or does not exist.
-- name: AddSshKey :one
INSERT INTO ssh_keys (user_id, name, fingerprint, public_key, key_type)
SELECT sqlc.arg(user_id), sqlc.arg(name), sqlc.arg(fingerprint), sqlc.arg(public_key), sqlc.arg(key_type)
WHERE user_may_sign_in(sqlc.arg(user_id))
RETURNING *;

-- The key with this fingerprint, whoever owns it (e.g. to refuse a duplicate).
-- name: GetSshKeyByFingerprint :one
SELECT * FROM ssh_keys WHERE fingerprint = sqlc.arg(fingerprint);

-- The SSH server's login check: the key with this fingerprint if its owner may
-- sign in; stamps last_used_at in the same statement.
-- name: AuthenticateSshKey :one
UPDATE ssh_keys
SET last_used_at = now()
WHERE fingerprint = sqlc.arg(fingerprint)
  AND user_may_sign_in(user_id)
RETURNING *;

-- A user's keys in the order they were added.
-- name: ListSshKeys :many
SELECT * FROM ssh_keys WHERE user_id = sqlc.arg(user_id) ORDER BY created_at, id;

-- Remove a key of this user (0 rows if it is not theirs).
-- name: DeleteSshKey :execrows
DELETE FROM ssh_keys WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id);
