-- Count one hit against a key in the fixed window containing now(), in one
-- upsert: the first hit creates the window's row, later ones increment it in
-- place, so concurrent hits are never lost. Returns the window's new count and
-- start (the window ends at window_start + window_size).
-- name: HitRateLimit :one
INSERT INTO rate_limits (key, window_start, count)
VALUES (sqlc.arg(key), date_bin(sqlc.arg(window_size)::interval, now(), timestamptz '2000-01-01 00:00:00+00'), 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
RETURNING count, window_start;

-- The count of a key in the window containing now() (0 when it had no hits).
-- name: GetRateLimitCount :one
SELECT COALESCE(max(count), 0)::bigint AS count
FROM rate_limits
WHERE key = sqlc.arg(key)
  AND window_start = date_bin(sqlc.arg(window_size)::interval, now(), timestamptz '2000-01-01 00:00:00+00');

-- Forget every window of a key, e.g. after a successful login.
-- name: ResetRateLimit :execrows
DELETE FROM rate_limits WHERE key = sqlc.arg(key);

-- Drop windows that started before a cutoff (older than the longest window in use).
-- name: DeleteExpiredRateLimits :execrows
DELETE FROM rate_limits WHERE window_start < sqlc.arg(before);
