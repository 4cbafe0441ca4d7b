-- Every kind of value a row class holds: an enum and an enum[], json/jsonb, arrays,
-- nullable columns, a composite, a range and an inet (pydantic checks those by class).
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TYPE point2 AS (x double precision, y double precision);
CREATE TABLE notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body text NOT NULL,
    feeling mood NOT NULL,
    feelings mood[],
    doc jsonb NOT NULL,
    extra json,
    tags text[] NOT NULL,
    amount numeric,
    at timestamptz NOT NULL,
    span int4range,
    addr inet,
    location point2
);
