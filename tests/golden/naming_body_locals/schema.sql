CREATE TABLE jobs (
    id integer PRIMARY KEY,
    "conn" text NOT NULL,
    "cur" text NOT NULL,
    "r" text NOT NULL,
    "row" text NOT NULL,
    "rows" text NOT NULL,
    "error" text,
    "_error" text,
    "status" text,
    "_status" text,
    "stream" text,
    "batch_size" integer
);
