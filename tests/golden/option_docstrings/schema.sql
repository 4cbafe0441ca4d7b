CREATE TABLE authors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    bio text,
    joined timestamptz NOT NULL DEFAULT now()
);
