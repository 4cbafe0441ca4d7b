CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email citext NOT NULL UNIQUE,
    aliases citext[]
);
