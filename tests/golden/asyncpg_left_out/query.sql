-- asyncpg returns a tstzrange as asyncpg.Range, psycopg as psycopg's Range, and asyncpg
-- takes no codec for range types: the models are shared, so emit_asyncpg leaves
-- GetBooking out of apg_unshared.asyncpg (a warning in manifest.json names it) and
-- keeps ListBookingIDs; the psycopg modules have both.

-- name: GetBooking :one
SELECT * FROM bookings WHERE id = $1;

-- name: ListBookingIDs :many
SELECT id FROM bookings ORDER BY id;
