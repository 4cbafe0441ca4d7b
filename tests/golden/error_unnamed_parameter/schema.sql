CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    moods mood[] NOT NULL DEFAULT '{}'
);
