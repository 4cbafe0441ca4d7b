CREATE TYPE mood AS ENUM ('ok', 'sad');

CREATE TABLE authors (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    mood mood NOT NULL DEFAULT 'ok',
    moods mood[] NOT NULL DEFAULT '{}',
    profile jsonb,
    tags text[] NOT NULL DEFAULT '{}',
    born date,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE books (
    id bigserial PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES authors (id),
    title text NOT NULL,
    price numeric(10, 2),
    UNIQUE (author_id, title)
);
