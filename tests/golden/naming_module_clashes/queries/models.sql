-- name: CountChecks :one
SELECT count(*) AS n FROM checks;
