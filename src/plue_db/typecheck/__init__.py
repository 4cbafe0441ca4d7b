"""The typed query API made and proven: ``plue-db generate`` and the type fidelity checks.

generate.py runs sqlc with the plugin (sqlc_gen_psycopg.analysis) on the embedded
server and mirrors generated/; fidelity.py is ``check``'s PREPARE comparison of every
generated type with PostgreSQL's; runtime_types.py is its run-time half, used by the
tests and benchmarks on the values psycopg returns.

May import: the top level, servers/ and the plugin (sqlc_gen_psycopg). Not schema/
(which imports this package for ``check``), mcp/ or demo/.
"""
