-- name: RefreshTotals :exec
REFRESH MATERIALIZED VIEW score_totals;

-- name: GetTotal :one
SELECT total FROM score_totals;
