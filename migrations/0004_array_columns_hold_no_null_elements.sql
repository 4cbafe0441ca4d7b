-- plue-db: no-transaction
-- Issue 17, defect 12: NOT NULL on an array column covers the array, not its elements,
-- so create_repository(topics=[None, "x"]) was stored and read back as [None, 'x'] in a
-- field typed list[str]. Every array column of Plue gets a CHECK that keeps NULL
-- elements out (none of them has a meaning for one); the generator recognises the shape
-- (codegen/sqlc_gen_psycopg/element_checks.py) and keeps these fields list[T], and the
-- generated functions refuse a None element before sending it.
--
-- Safe on a live database: each CHECK is added NOT VALID (a brief lock, no scan; new
-- writes are checked from then on), committed, then validated (SHARE UPDATE EXCLUSIVE:
-- reads and writes go on while existing rows are scanned). lock_timeout keeps the brief
-- lock from queueing behind a long transaction; on timeout rerun `plue-db migrate`,
-- which resumes after the last committed statement. A VALIDATE failing on a row that
-- already holds a NULL element names the constraint: remove those elements, e.g.
-- UPDATE repositories SET topics = array_remove(topics, NULL)
--     WHERE array_position(topics, NULL) IS NOT NULL;
-- and rerun.
SET lock_timeout = '5s';

ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_scopes_no_nulls
    CHECK (array_position(scopes, NULL) IS NULL) NOT VALID;

ALTER TABLE repositories ADD CONSTRAINT repositories_topics_no_nulls
    CHECK (array_position(topics, NULL) IS NULL) NOT VALID;

ALTER TABLE protected_branches ADD CONSTRAINT protected_branches_push_allowlist_user_ids_no_nulls
    CHECK (array_position(push_allowlist_user_ids, NULL) IS NULL) NOT VALID;

ALTER TABLE protected_branches ADD CONSTRAINT protected_branches_force_push_allowlist_user_ids_no_nulls
    CHECK (array_position(force_push_allowlist_user_ids, NULL) IS NULL) NOT VALID;

ALTER TABLE landing_queue ADD CONSTRAINT landing_queue_stack_change_ids_no_nulls
    CHECK (array_position(stack_change_ids, NULL) IS NULL) NOT VALID;

ALTER TABLE changes ADD CONSTRAINT changes_parent_change_ids_no_nulls
    CHECK (array_position(parent_change_ids, NULL) IS NULL) NOT VALID;

ALTER TABLE jj_operations ADD CONSTRAINT jj_operations_parent_operation_ids_no_nulls
    CHECK (array_position(parent_operation_ids, NULL) IS NULL) NOT VALID;

ALTER TABLE runner_pool ADD CONSTRAINT runner_pool_labels_no_nulls
    CHECK (array_position(labels, NULL) IS NULL) NOT VALID;

ALTER TABLE workflow_steps ADD CONSTRAINT workflow_steps_depends_on_no_nulls
    CHECK (array_position(depends_on, NULL) IS NULL) NOT VALID;

ALTER TABLE access_tokens VALIDATE CONSTRAINT access_tokens_scopes_no_nulls;
ALTER TABLE repositories VALIDATE CONSTRAINT repositories_topics_no_nulls;
ALTER TABLE protected_branches VALIDATE CONSTRAINT protected_branches_push_allowlist_user_ids_no_nulls;
ALTER TABLE protected_branches VALIDATE CONSTRAINT protected_branches_force_push_allowlist_user_ids_no_nulls;
ALTER TABLE landing_queue VALIDATE CONSTRAINT landing_queue_stack_change_ids_no_nulls;
ALTER TABLE changes VALIDATE CONSTRAINT changes_parent_change_ids_no_nulls;
ALTER TABLE jj_operations VALIDATE CONSTRAINT jj_operations_parent_operation_ids_no_nulls;
ALTER TABLE runner_pool VALIDATE CONSTRAINT runner_pool_labels_no_nulls;
ALTER TABLE workflow_steps VALIDATE CONSTRAINT workflow_steps_depends_on_no_nulls;
