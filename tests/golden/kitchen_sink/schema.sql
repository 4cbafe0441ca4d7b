-- Every type family, an enum, a domain, a composite and a user function.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'très bien');
CREATE DOMAIN eth_address AS text CHECK (VALUE ~ '^0x[0-9a-f]{40}$');
CREATE TYPE point2 AS (x double precision, y double precision);

CREATE TABLE kinds (
    id bigserial PRIMARY KEY,
    small smallint NOT NULL,
    regular integer NOT NULL,
    big bigint NOT NULL,
    amount numeric(20, 6) NOT NULL,
    ratio real NOT NULL,
    precise double precision NOT NULL,
    flag boolean NOT NULL,
    label text NOT NULL,
    code varchar(12) NOT NULL,
    fixed char(3) NOT NULL,
    blob bytea NOT NULL,
    ident uuid NOT NULL,
    day date NOT NULL,
    at_time time NOT NULL,
    at_timetz timetz NOT NULL,
    local_ts timestamp NOT NULL,
    ts timestamp with time zone NOT NULL,
    span interval NOT NULL,
    doc json NOT NULL,
    docb jsonb NOT NULL,
    addr inet NOT NULL,
    net cidr NOT NULL,
    tags text[] NOT NULL,
    grid integer[][] NOT NULL,
    feeling mood NOT NULL,
    feelings mood[] NOT NULL,
    wallet eth_address NOT NULL,
    spot point2,
    note text
);
COMMENT ON TABLE kinds IS 'One column per type family the generator maps.';
COMMENT ON COLUMN kinds.wallet IS 'A domain over text: maps to str.';

CREATE TABLE owners (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "class" text NOT NULL,
    "from" text
);

CREATE TABLE pets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES owners (id),
    name text NOT NULL,
    feeling mood NOT NULL DEFAULT 'ok'
);

CREATE FUNCTION double_it(n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT n * 2 $$;
