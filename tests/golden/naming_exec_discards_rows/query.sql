-- name: LockJobs :exec
SELECT pg_advisory_xact_lock($1);

-- name: LockJobsCounted :execrows
SELECT pg_advisory_xact_lock($1);

-- name: LockJobsResult :execresult
SELECT pg_advisory_xact_lock($1);

-- name: AddJob :exec
INSERT INTO jobs (name) VALUES ($1) RETURNING id;
