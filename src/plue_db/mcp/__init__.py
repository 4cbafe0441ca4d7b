"""``plue-db mcp`` and ``plue-db stats``: looking into a Plue database, read-only.

server.py is the MCP server (``python -m plue_db.mcp.server``); readonly.py runs one
untrusted SELECT, behind the statement guard (sql_guard.py, walking pglast's trees with
pg_ast.py) and as the least-privileged login of reader_role.py; stats.py is the health
summary both commands print.

May import: the top level, servers/ and demo.tables (the plain-text table renderer).
Not schema/ or typecheck/. Named ``plue_db.mcp``: the ``mcp`` SDK is still the absolute
``import mcp`` everywhere, this package only ever ``plue_db.mcp``.
"""
