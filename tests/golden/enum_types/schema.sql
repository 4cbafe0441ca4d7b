CREATE TYPE status AS ENUM ('open', 'in_review', 'closed');
CREATE TABLE tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status status NOT NULL DEFAULT 'open',
    history status[] NOT NULL DEFAULT '{}'
);
