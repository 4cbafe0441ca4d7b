-- sqlc's examples/authors: one table, four queries (issue 18, "Output a reader can take in").
CREATE TABLE authors (
  id   BIGSERIAL PRIMARY KEY,
  name text      NOT NULL,
  bio  text
);
