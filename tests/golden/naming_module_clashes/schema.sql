CREATE TABLE checks (id integer NOT NULL, ok boolean NOT NULL);
