-- Refused today. Issue 10: name it from the column it meets (`id`), else `dollar_1`.
-- name: ByIds :many
SELECT id FROM users WHERE id = ANY($1::bigint[]);
