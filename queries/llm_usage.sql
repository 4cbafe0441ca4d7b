-- Record one LLM call's usage and cost, linked to the session or run it served.
-- name: RecordLlmUsage :one
INSERT INTO llm_usage (user_id, session_id, workflow_run_id, provider, model,
                       input_tokens, output_tokens, cost_micro_usd)
VALUES (sqlc.narg(user_id), sqlc.narg(session_id), sqlc.narg(workflow_run_id), sqlc.arg(provider),
        sqlc.arg(model), sqlc.arg(input_tokens), sqlc.arg(output_tokens), sqlc.arg(cost_micro_usd))
RETURNING *;

-- Calls, tokens and cost per model over [since, until), biggest spender first.
-- name: LlmUsageByModel :many
SELECT model,
       count(*) AS calls,
       COALESCE(sum(input_tokens), 0)::bigint AS input_tokens,
       COALESCE(sum(output_tokens), 0)::bigint AS output_tokens,
       COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd
FROM llm_usage
WHERE created_at >= sqlc.arg(since) AND created_at < sqlc.arg(until)
GROUP BY model
ORDER BY cost_micro_usd DESC, model;

-- Calls, tokens and cost per UTC day over [since, until), optionally of one model.
-- name: LlmUsageByDay :many
SELECT date_trunc('day', created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS calls,
       COALESCE(sum(input_tokens), 0)::bigint AS input_tokens,
       COALESCE(sum(output_tokens), 0)::bigint AS output_tokens,
       COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd
FROM llm_usage
WHERE created_at >= sqlc.arg(since) AND created_at < sqlc.arg(until)
  AND model = COALESCE(sqlc.narg(model)::text, model)  -- NOT NULL column: NULL = any
GROUP BY day
ORDER BY day;

-- Calls, tokens and cost of one agent session (zeros when it made no calls).
-- name: LlmUsageForSession :one
SELECT count(*) AS calls,
       COALESCE(sum(input_tokens), 0)::bigint AS input_tokens,
       COALESCE(sum(output_tokens), 0)::bigint AS output_tokens,
       COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd
FROM llm_usage
WHERE session_id = sqlc.arg(session_id);

-- A user's spend since a moment, for budget checks before the next call.
-- name: UserLlmCostSince :one
SELECT COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd
FROM llm_usage
WHERE user_id = sqlc.arg(user_id) AND created_at >= sqlc.arg(since);

-- Retention: drop usage records older than a cutoff.
-- name: DeleteLlmUsageBefore :execrows
DELETE FROM llm_usage WHERE created_at < sqlc.arg(before);
