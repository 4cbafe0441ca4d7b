CREATE EXTENSION IF NOT EXISTS hstore;

CREATE TABLE settings (
    id bigserial PRIMARY KEY,
    attrs hstore NOT NULL,
    history hstore[]
);
