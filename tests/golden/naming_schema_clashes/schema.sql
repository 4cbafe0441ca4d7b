-- One name in two schemas, for a table and for a composite type: each gets its own
-- class, the other schema's named after it (BazUser, FooPointType), whatever the
-- order of the queries.
CREATE TABLE users (id integer NOT NULL, name varchar NOT NULL, age integer NOT NULL);
CREATE SCHEMA baz;
CREATE TABLE baz.users (id integer NOT NULL, name varchar NOT NULL);
CREATE TYPE point_type AS (x integer, y integer);
CREATE SCHEMA foo;
CREATE TYPE foo.point_type AS (label text, x integer);
CREATE TABLE places (id integer NOT NULL, here point_type, there foo.point_type);
