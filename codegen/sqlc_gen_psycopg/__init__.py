"""sqlc process plugin that generates typed psycopg 3 code."""
