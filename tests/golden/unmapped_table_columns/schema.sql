-- Columns of types no query reads and that have no Python type of their own: generation
-- never fails on them; the model types them as psycopg returns them (text: str).
-- Extension types (ltree, hstore, vector) are in types_ltree, types_hstore, types_vector,
-- whose servers differ.
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    area box,
    during tstzrange,
    days daterange,
    search tsvector,
    mac macaddr,
    flags bit(4),
    price money,
    corners point[]
);
