-- Composite types on every target: psycopg sync (register_composites), async
-- (register_composites_async) and asyncpg (init_connection's tuple codecs).
CREATE TYPE money_amount AS (currency text, cents bigint);
CREATE SCHEMA geo;
CREATE TYPE geo."LatLng" AS (lat double precision, lng double precision);
CREATE TABLE shops (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    price money_amount NOT NULL,
    spot geo."LatLng"
);
