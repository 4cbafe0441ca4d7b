"""plue-db: what a service imports at the top level, the tools in sub-packages by job.

Top level, each import path kept for services: pool, pooler, transactions, routing,
routing_async, dsn, eager, values, json_shapes, sanitize; config and extras (settings
and optional parts, read by everything); cli (``plue-db``, dispatching into the rest).

Sub-packages: servers/ (resolved and started; ``plue_db.servers.database_url()`` is the
pool's default), schema/ (migrations, drift, catalog, picture), typecheck/ (generate
and type fidelity), mcp/ (the MCP tool and stats), demo/. The top level imports none
of them but servers/; each one's docstring says what it may import.
"""
