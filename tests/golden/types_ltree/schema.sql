CREATE EXTENSION IF NOT EXISTS ltree;

CREATE TABLE categories (
    id bigserial PRIMARY KEY,
    path ltree NOT NULL,
    aliases ltree[]
);
