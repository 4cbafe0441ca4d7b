"""The servers plue-db runs or meets (plue_db.servers): pid guard, pgbouncer, failover."""
