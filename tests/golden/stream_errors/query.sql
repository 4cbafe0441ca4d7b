-- Issue 18, bug 3: the query fails on its first FETCH when d = 0. The stream's close
-- used to send CLOSE in the aborted transaction, so the caller got
-- InFailedSqlTransaction with the real DivisionByZero only as its __context__.

-- name: ListDiv :many
SELECT id / sqlc.arg(d)::integer AS q FROM numbers ORDER BY id;
