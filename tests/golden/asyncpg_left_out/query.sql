-- asyncpg reads an int2vector as a list of int, psycopg as its text, and asyncpg takes
-- no codec for it; the row classes are shared, so emit_asyncpg leaves BookingSeats out
-- of apg_unshared.asyncpg (a warning in manifest.json names it) and keeps GetBooking (a
-- tstzrange, converted to psycopg's Range); the psycopg modules have both.

-- name: GetBooking :one
SELECT id, during FROM bookings WHERE id = $1;

-- name: BookingSeats :one
SELECT id, seats FROM bookings WHERE id = $1;
