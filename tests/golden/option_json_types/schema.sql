CREATE TABLE documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan jsonb NOT NULL,
    owner jsonb,
    usage json NOT NULL,
    settings jsonb NOT NULL
);
