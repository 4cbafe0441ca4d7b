-- Count one hit against a key in the fixed window of this size containing now(),
-- in one upsert: the first hit creates the window's row, later ones increment it
-- in place, so concurrent hits are never lost. Each window size has its own row,
-- so a minute, an hour and a day limit on one key count independently. Returns
-- the window's new count and start (the window ends at window_start + window_size).
-- A window_size that is not positive or has months raises InvalidParameterValue.
-- name: HitRateLimit :one
INSERT INTO rate_limits (key, window_size, window_start, count)
VALUES (
    sqlc.arg(key), rate_limit_window(sqlc.arg(window_size)::interval),
    date_bin(rate_limit_window(sqlc.arg(window_size)::interval), now(), timestamptz '2000-01-01 00:00:00+00'), 1
)
ON CONFLICT (key, window_size, window_start) DO UPDATE SET count = rate_limits.count + 1
RETURNING count, window_start;

-- The count of a key in the window of this size containing now() (0 when it had no
-- hits); window_size is checked as in HitRateLimit.
-- name: GetRateLimitCount :one
SELECT COALESCE(max(count), 0)::bigint AS count
FROM rate_limits
WHERE key = sqlc.arg(key)
  AND window_size = rate_limit_window(sqlc.arg(window_size)::interval)
  AND window_start = date_bin(rate_limit_window(sqlc.arg(window_size)::interval), now(), timestamptz '2000-01-01 00:00:00+00');

-- Forget every window of a key, of every size, e.g. after a successful login.
-- name: ResetRateLimit :execrows
DELETE FROM rate_limits WHERE key = sqlc.arg(key);

-- Housekeeping: drop windows that have ended, each by its own size, so no caller
-- can cut a long window short. A sequential scan, on purpose: the table holds only
-- live windows and those that ended since the last run, and `window_start +
-- window_size` can't be indexed (timestamptz + interval depends on the TimeZone).
-- name: DeleteExpiredRateLimits :execrows
DELETE FROM rate_limits WHERE window_start + window_size <= now();
