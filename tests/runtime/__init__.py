"""What services run: pool, routing, transactions, generated calls, streams, tracing, asyncpg."""
