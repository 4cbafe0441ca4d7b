CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    balance numeric(12, 2) NOT NULL,
    credit numeric(12, 2),
    tags text[] NOT NULL
);
