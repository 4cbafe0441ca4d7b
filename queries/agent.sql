-- Start an agent session working in a directory with one model.
-- name: CreateSession :one
INSERT INTO sessions (user_id, repository_id, parent_session_id, title, directory, model)
VALUES (sqlc.narg(user_id), sqlc.narg(repository_id), sqlc.narg(parent_session_id),
        sqlc.arg(title), sqlc.arg(directory), sqlc.arg(model))
RETURNING *;

-- An agent session by id.
-- name: GetSession :one
SELECT * FROM sessions WHERE id = sqlc.arg(id);

-- A user's sessions, newest first, optionally of one status; keyset-paginated on
-- (created_at, id).
-- name: ListUserSessions :many
SELECT * FROM sessions
WHERE user_id = sqlc.arg(user_id)::bigint
  -- status is NOT NULL, so COALESCE(narg, status) = "any status" (unlike "$n IS NULL OR
  -- ...", it keeps generic plans reading the index in order).
  AND status = COALESCE(sqlc.narg(status)::session_status, status)
  AND (created_at, id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 0))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- Move a session to another status (idle, completed, failed, aborted, active).
-- name: UpdateSessionStatus :one
UPDATE sessions SET status = sqlc.arg(status)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Rename a session.
-- name: UpdateSessionTitle :one
UPDATE sessions SET title = sqlc.arg(title)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Add tokens to a session's running total in place, so concurrent writers never
-- lose an increment; returns the new total.
-- name: AddSessionTokens :one
UPDATE sessions SET token_count = token_count + sqlc.arg(tokens)::bigint
WHERE id = sqlc.arg(id)
RETURNING token_count;

-- Delete a session with its messages and parts.
-- name: DeleteSession :execrows
DELETE FROM sessions WHERE id = sqlc.arg(id);

-- Append a message at the session's next position. The position comes from the
-- session's message_count, bumped by the same statement under the session's row
-- lock, so concurrent appends get consecutive positions and never collide.
-- Nothing comes back when the session does not exist.
-- name: AppendMessage :one
WITH slot AS (
    UPDATE sessions SET message_count = message_count + 1
    WHERE sessions.id = sqlc.arg(session_id)
    RETURNING id, message_count - 1 AS position
)
INSERT INTO messages (session_id, position, role, status, model)
SELECT slot.id, slot.position, sqlc.arg(role)::message_role, sqlc.arg(status)::message_status,
       sqlc.narg(model)::text
FROM slot
RETURNING *;

-- A message by id.
-- name: GetMessage :one
SELECT * FROM messages WHERE id = sqlc.arg(id);

-- A session's messages in order, after a position (pass NULL for the start).
-- name: ListSessionMessages :many
SELECT * FROM messages
WHERE session_id = sqlc.arg(session_id)
  AND position > COALESCE(sqlc.narg(after_position)::integer, -1)
ORDER BY position
LIMIT sqlc.arg(page_size);

-- Record how a message ended (completed, failed, aborted) with its token usage
-- and, for a failure, the error.
-- name: FinishMessage :one
UPDATE messages
SET status = sqlc.arg(status), input_tokens = sqlc.arg(input_tokens),
    output_tokens = sqlc.arg(output_tokens), error = sqlc.narg(error)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Mark a message as streaming or back to pending without touching its usage.
-- name: UpdateMessageStatus :one
UPDATE messages SET status = sqlc.arg(status)
WHERE id = sqlc.arg(id)
RETURNING *;

-- Append a part at the message's next position, taken from the message's
-- part_count in the same statement (as AppendMessage does for messages).
-- Nothing comes back when the message does not exist.
-- name: AppendPart :one
WITH slot AS (
    UPDATE messages SET part_count = part_count + 1
    WHERE messages.id = sqlc.arg(message_id)
    RETURNING id, part_count - 1 AS position
)
INSERT INTO parts (message_id, position, kind, content)
SELECT slot.id, slot.position, sqlc.arg(kind)::part_kind, sqlc.arg(content)::jsonb
FROM slot
RETURNING *;

-- Replace a part's payload, e.g. as streamed text grows or a tool call completes.
-- name: UpdatePartContent :one
UPDATE parts SET content = sqlc.arg(content)
WHERE id = sqlc.arg(id)
RETURNING *;

-- The parts of a message in order.
-- name: ListMessageParts :many
SELECT * FROM parts WHERE message_id = sqlc.arg(message_id) ORDER BY position;

-- Token totals of a session from its messages: what the model read and wrote.
-- name: GetSessionTokenTotals :one
SELECT count(*) AS messages,
       COALESCE(sum(input_tokens), 0)::bigint AS input_tokens,
       COALESCE(sum(output_tokens), 0)::bigint AS output_tokens
FROM messages
WHERE session_id = sqlc.arg(session_id);
