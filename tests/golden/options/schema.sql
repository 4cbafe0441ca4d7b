-- Plugin options: overrides by column and by db type, renamed models, no async.
CREATE TABLE people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile jsonb NOT NULL,
    settings jsonb,
    balance numeric NOT NULL
);
