-- Create or replace a repository's workflow by name, as found when its file is
-- (re)read; the id and the run history stay attached to the same name.
-- name: UpsertWorkflowDefinition :one
INSERT INTO workflow_definitions (repository_id, name, file_path, triggers, plan, is_active)
VALUES (sqlc.arg(repository_id), sqlc.arg(name), sqlc.arg(file_path), sqlc.arg(triggers), sqlc.arg(plan), sqlc.arg(is_active))
ON CONFLICT (repository_id, name) DO UPDATE
SET file_path = EXCLUDED.file_path,
    triggers = EXCLUDED.triggers,
    plan = EXCLUDED.plan,
    is_active = EXCLUDED.is_active
RETURNING *;

-- A workflow definition by id.
-- name: GetWorkflowDefinition :one
SELECT * FROM workflow_definitions WHERE id = sqlc.arg(id);

-- A repository's workflow definition by its name.
-- name: GetWorkflowDefinitionByName :one
SELECT * FROM workflow_definitions
WHERE repository_id = sqlc.arg(repository_id) AND name = sqlc.arg(name);

-- A repository's workflow definitions by name, optionally only the active ones;
-- keyset-paginated on the name (pass the last name seen as after_name).
-- name: ListWorkflowDefinitions :many
SELECT * FROM workflow_definitions
WHERE repository_id = sqlc.arg(repository_id)
  AND (NOT sqlc.arg(active_only)::boolean OR is_active)
  AND name > COALESCE(sqlc.narg(after_name)::text, '')
ORDER BY name
LIMIT sqlc.arg(page_size);

-- Remove a workflow definition; its past runs keep existing without it.
-- name: DeleteWorkflowDefinition :execrows
DELETE FROM workflow_definitions WHERE id = sqlc.arg(id);

-- Queue a run of an active definition; the repository comes from the definition,
-- so a run can never point at another repository's workflow. Returns nothing when
-- the definition does not exist or is inactive.
-- name: CreateWorkflowRun :one
INSERT INTO workflow_runs (repository_id, definition_id, trigger_event, ref, commit_id, inputs, triggered_by)
SELECT d.repository_id, d.id, sqlc.arg(trigger_event), sqlc.narg(ref), sqlc.narg(commit_id),
       sqlc.arg(inputs), sqlc.narg(triggered_by)
FROM workflow_definitions d
WHERE d.id = sqlc.arg(definition_id) AND d.is_active
RETURNING *;

-- A workflow run by id.
-- name: GetWorkflowRun :one
SELECT * FROM workflow_runs WHERE id = sqlc.arg(id);

-- Hand the oldest unclaimed queued run to a warm idle runner, both at once: each
-- is picked in its own MATERIALIZED CTE with FOR UPDATE SKIP LOCKED, so concurrent
-- dispatchers never get the same run or the same runner. The run stays queued
-- (with its runner set) until the runner starts it. Nothing comes back when
-- either no run is waiting or no runner with a recent heartbeat is idle.
-- name: ClaimWorkflowRun :one
WITH run AS MATERIALIZED (
    SELECT id FROM workflow_runs
    WHERE status = 'queued' AND runner_id IS NULL
    ORDER BY created_at, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), runner AS MATERIALIZED (
    SELECT id FROM runner_pool
    WHERE status = 'idle'
      AND last_heartbeat_at > now() - sqlc.arg(max_heartbeat_age)::interval
    ORDER BY last_heartbeat_at DESC, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), claimed_run AS (
    UPDATE workflow_runs r SET runner_id = runner.id
    FROM run, runner
    WHERE r.id = run.id
    RETURNING r.id, r.runner_id
), claimed_runner AS (
    UPDATE runner_pool p SET status = 'busy', claimed_run_id = run.id
    FROM run, runner
    WHERE p.id = runner.id
    RETURNING p.id
)
SELECT claimed_run.id AS run_id, claimed_runner.id AS runner_id
FROM claimed_run JOIN claimed_runner ON claimed_runner.id = claimed_run.runner_id;

-- The claiming runner starts its run. Guarded: only a queued run held by this
-- runner starts, so a stale or foreign runner gets nothing back.
-- name: StartWorkflowRun :one
UPDATE workflow_runs SET status = 'running', started_at = now()
WHERE id = sqlc.arg(id) AND status = 'queued' AND runner_id = sqlc.arg(runner_id)::bigint
RETURNING *;

-- Conclude a running run (succeeded, failed, cancelled or timed_out). Nothing
-- comes back when the run is not running; a non-final conclusion is rejected by
-- the workflow_runs_finished_iff_concluded check.
-- name: FinishWorkflowRun :one
UPDATE workflow_runs SET status = sqlc.arg(conclusion), finished_at = now()
WHERE id = sqlc.arg(id) AND status = 'running'
RETURNING *;

-- Cancel a run that has not concluded yet (queued or running).
-- name: CancelWorkflowRun :one
UPDATE workflow_runs SET status = 'cancelled', finished_at = now()
WHERE id = sqlc.arg(id) AND status IN ('queued', 'running')
RETURNING *;

-- A repository's runs, newest first, with the name of their workflow (NULL once
-- the definition is deleted), optionally of one status; keyset-paginated on
-- (created_at, id).
-- name: ListRecentWorkflowRuns :many
SELECT r.id, r.definition_id, d.name AS definition_name, r.trigger_event, r.ref, r.commit_id,
       r.status, r.triggered_by, r.runner_id, r.started_at, r.finished_at, r.created_at
FROM workflow_runs r
LEFT JOIN workflow_definitions d ON d.id = r.definition_id
WHERE r.repository_id = sqlc.arg(repository_id)
  AND (sqlc.narg(status)::workflow_run_status IS NULL OR r.status = sqlc.narg(status)::workflow_run_status)
  AND (r.created_at, r.id)
       < (COALESCE(sqlc.narg(before_created_at)::timestamptz, 'infinity'),
          COALESCE(sqlc.narg(before_id)::bigint, 0))
ORDER BY r.created_at DESC, r.id DESC
LIMIT sqlc.arg(page_size);

-- How many runs a repository has in each status (statuses without runs are absent).
-- name: CountWorkflowRunsByStatus :many
SELECT status, count(*) AS runs
FROM workflow_runs
WHERE repository_id = sqlc.arg(repository_id)
GROUP BY status
ORDER BY status;

-- Add a step to a run (a node of its plan), pending.
-- name: CreateWorkflowStep :one
INSERT INTO workflow_steps (run_id, name, position, depends_on)
VALUES (sqlc.arg(run_id), sqlc.arg(name), sqlc.arg(position), sqlc.arg(depends_on))
RETURNING *;

-- Start a pending step; nothing comes back when it is not pending.
-- name: StartWorkflowStep :one
UPDATE workflow_steps SET status = 'running', started_at = now()
WHERE id = sqlc.arg(id) AND status = 'pending'
RETURNING *;

-- Conclude a running step with its exit code; nothing comes back when it is not
-- running, and a non-final status is rejected by workflow_steps_finished_iff_concluded.
-- name: FinishWorkflowStep :one
UPDATE workflow_steps SET status = sqlc.arg(conclusion), exit_code = sqlc.narg(exit_code), finished_at = now()
WHERE id = sqlc.arg(id) AND status = 'running'
RETURNING *;

-- Skip a step that never started (a dependency failed).
-- name: SkipWorkflowStep :one
UPDATE workflow_steps SET status = 'skipped', finished_at = now()
WHERE id = sqlc.arg(id) AND status = 'pending'
RETURNING *;

-- Cancel every unfinished step of a run, e.g. together with CancelWorkflowRun.
-- name: CancelWorkflowSteps :execrows
UPDATE workflow_steps SET status = 'cancelled', finished_at = now()
WHERE run_id = sqlc.arg(run_id) AND status IN ('pending', 'running');

-- The steps of a run in plan order.
-- name: ListWorkflowSteps :many
SELECT * FROM workflow_steps WHERE run_id = sqlc.arg(run_id) ORDER BY position;

-- Append one log line to a run (step_id NULL for run-level output).
-- name: AppendWorkflowLog :one
INSERT INTO workflow_logs (run_id, step_id, stream, content)
VALUES (sqlc.arg(run_id), sqlc.narg(step_id), sqlc.arg(stream), sqlc.arg(content))
RETURNING *;

-- Bulk log ingestion through COPY: many lines in one round trip, in order.
-- name: CopyWorkflowLogs :copyfrom
INSERT INTO workflow_logs (run_id, step_id, stream, content)
VALUES ($1, $2, $3, $4);

-- A page of a run's log in output order, after the last line id seen.
-- name: ListRunLogs :many
SELECT * FROM workflow_logs
WHERE run_id = sqlc.arg(run_id) AND id > COALESCE(sqlc.narg(after_id)::bigint, 0)
ORDER BY id
LIMIT sqlc.arg(page_size);

-- A page of one step's log in output order, after the last line id seen.
-- name: ListStepLogs :many
SELECT * FROM workflow_logs
WHERE step_id = sqlc.arg(step_id) AND id > COALESCE(sqlc.narg(after_id)::bigint, 0)
ORDER BY id
LIMIT sqlc.arg(page_size);

-- Register a runner, or record its heartbeat (and new labels) when it is known.
-- A runner that was reaped as offline comes back idle; any other status is kept.
-- name: UpsertRunner :one
INSERT INTO runner_pool (name, labels)
VALUES (sqlc.arg(name), sqlc.arg(labels))
ON CONFLICT (name) DO UPDATE
SET labels = EXCLUDED.labels,
    last_heartbeat_at = now(),
    status = CASE WHEN runner_pool.status = 'offline' THEN 'idle'::runner_status ELSE runner_pool.status END
RETURNING *;

-- A runner by id.
-- name: GetRunner :one
SELECT * FROM runner_pool WHERE id = sqlc.arg(id);

-- A busy runner is done with its run and goes back to the idle pool.
-- name: ReleaseRunner :one
UPDATE runner_pool SET status = 'idle', claimed_run_id = NULL
WHERE id = sqlc.arg(id) AND status = 'busy'
RETURNING *;

-- Stop handing runs to a runner (e.g. before an upgrade); it keeps its current run.
-- Mark runners without a recent heartbeat offline and deal with what they held,
-- in one statement: a claimed run they never started goes back to the queue, a
-- run they were executing times out.
-- name: ReapStaleRunners :one
WITH reaped AS (
    UPDATE runner_pool SET status = 'offline', claimed_run_id = NULL
    WHERE status <> 'offline'
      AND last_heartbeat_at <= now() - sqlc.arg(max_heartbeat_age)::interval
    RETURNING id
), requeued AS (
    UPDATE workflow_runs SET runner_id = NULL
    WHERE runner_id IN (SELECT id FROM reaped) AND status = 'queued'
    RETURNING id
), timed_out AS (
    UPDATE workflow_runs SET status = 'timed_out', finished_at = now()
    WHERE runner_id IN (SELECT id FROM reaped) AND status = 'running'
    RETURNING id
)
SELECT (SELECT count(*) FROM reaped) AS "runners!",
       (SELECT count(*) FROM requeued) AS "requeued_runs!",
       (SELECT count(*) FROM timed_out) AS "timed_out_runs!";

-- Remove a runner from the registry.
-- name: DeleteRunner :execrows
DELETE FROM runner_pool WHERE id = sqlc.arg(id);
