CREATE TABLE numbers (id integer NOT NULL);
