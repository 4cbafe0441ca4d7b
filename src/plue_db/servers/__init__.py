"""The servers plue-db resolves and starts, and the throw-away databases it makes on them.

``database_url()`` and ``replica_urls()`` (from resolve.py) are the one place a server
is resolved: the pool and the routers call them for their defaults, so they stay
``plue_db.servers.database_url`` as before. The rest is a module per server: the embedded
PostgreSQL 16 and its replicas, a primary with replicas from the wheel's binaries,
pgbouncer, the unprivileged user they run as, the pid-file guard, scratch databases.

May import: the top level (config, dsn, extras) and each other by full module path
(``import plue_db.servers.embedded as embedded``), never ``from plue_db.servers import
x``: that names this file, which imports resolve.py, which reaches embedded and the
replicas, a cycle tests/docs/test_import_cycles.py would report. Not schema/, typecheck/,
mcp/ or demo/: those use servers, never the reverse.
"""

from plue_db.servers.resolve import database_url as database_url
from plue_db.servers.resolve import replica_urls as replica_urls
