CREATE TYPE pet AS (name text, legs integer);
CREATE TYPE "final" AS ENUM ('a', 'b');
CREATE TABLE pets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    kind "final" NOT NULL DEFAULT 'a',
    card pet
);
CREATE TABLE get_pet_rows (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note text NOT NULL
);
CREATE TABLE exceptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY
);
