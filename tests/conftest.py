"""The suite's fixtures live in plugins, one per idea (psycopg's suite is the model):

- tests/fix_server.py: the server under test (``--server-url``, else DATABASE_URL, else
  the embedded PostgreSQL 16), named in pytest's report header, and which tests run on
  every server (beside tests/run_suites.py, which uses it);
- tests/fixtures/fix_db.py: the session's database with schema.sql, a rolled-back ``conn`` on it,
  empty scratch databases, and the ``Conn``/``AConn`` aliases;
- tests/fixtures/fix_replicas.py: a primary with streaming replicas, and pgbouncer in front;
- tests/fixtures/fix_golden.py: the kitchen-sink golden package's database, connection and rows;
- tests/fixtures/fix_world.py: a database with a row in every table, for the read-function sweeps;
- tests/fixtures/fix_reader.py: the MCP's read-only login and executor on a scratch database.

The golden fixtures' generated packages are importable through pytest's ``pythonpath``
setting (pyproject.toml).
"""

pytest_plugins = (
    "tests.fix_server",
    "tests.fixtures.fix_db",
    "tests.fixtures.fix_replicas",
    "tests.fixtures.fix_golden",
    "tests.fixtures.fix_world",
    "tests.fixtures.fix_reader",
)
