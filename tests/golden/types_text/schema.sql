-- Built-in types psycopg has no loader for: it returns PostgreSQL's text for them.
CREATE TABLE shapes (
    id bigserial PRIMARY KEY,
    p point NOT NULL,
    ln line,
    ls lseg,
    b box,
    pa path,
    pg polygon,
    c circle,
    mac macaddr,
    mac8 macaddr8,
    tv tsvector,
    tq tsquery,
    bt bit(3),
    vb varbit,
    mo money,
    lsn pg_lsn,
    pts point[]
);

-- xml needs a server built with libxml (the embedded PostgreSQL 16 is not).
CREATE TABLE documents (
    id bigserial PRIMARY KEY,
    body xml NOT NULL
);
