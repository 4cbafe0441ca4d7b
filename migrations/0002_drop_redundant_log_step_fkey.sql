-- workflow_logs.step_id had its own foreign key to workflow_steps (id) besides the
-- composite (step_id, run_id) one, which already implies it (and cascades deletes the
-- same way). Each foreign key is a trigger per row on COPY: dropping the redundant one
-- takes bulk log ingestion from ~20 to ~13 us per line (embedded PostgreSQL 16).
ALTER TABLE workflow_logs DROP CONSTRAINT workflow_logs_step_id_fkey;
