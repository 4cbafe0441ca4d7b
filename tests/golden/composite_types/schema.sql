CREATE TYPE point2 AS (x double precision, y double precision);
CREATE TABLE places (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    location point2
);
