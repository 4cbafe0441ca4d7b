CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE embeddings (
    id bigserial PRIMARY KEY,
    embedding vector(3) NOT NULL,
    history vector(3)[]
);
