-- asyncpg returns a tstzrange as asyncpg.Range, psycopg as psycopg's Range: the models
-- are shared, so emit_asyncpg refuses the query instead of annotating a lie.

-- name: GetBooking :one
SELECT * FROM bookings WHERE id = $1;
