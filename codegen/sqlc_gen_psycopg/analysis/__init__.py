"""PostgreSQL's own answers, for any project using the plugin: ``sqlc-gen-psycopg-db``.

``generate`` runs sqlc with its database-backed analysis on a scratch database that
holds the project's schema (sqlc then PREPAREs each query and takes PostgreSQL's
parameter and column types), and puts every error back at its own ``file:line``;
``check`` PREPAREs every generated function's SQL and compares PostgreSQL's description
with the annotations in manifest.json.

These need the ``analysis`` extra (sqlc, psycopg), and the embedded server the
``embedded`` extra (pgserver); the plugin itself needs neither.
"""
