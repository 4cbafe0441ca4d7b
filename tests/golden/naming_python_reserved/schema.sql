-- Columns named after what generated modules import or Python reserves.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "datetime" timestamptz NOT NULL DEFAULT now(),
    "uuid" uuid NOT NULL DEFAULT gen_random_uuid(),
    "decimal" numeric NOT NULL DEFAULT 0,
    "list" text[] NOT NULL DEFAULT '{}',
    "str" text NOT NULL DEFAULT '',
    "type" text NOT NULL DEFAULT 'plain',
    "match" text,
    "case" text,
    "_" text,
    "class" text,
    "from" text,
    "models" text,
    "enums" text,
    "psycopg" text,
    "conn" text,
    "rows" text,
    "batch_size" integer,
    "__private" text,
    -- after the field named datetime: its annotation needs the module, imported as
    -- _datetime (a plain `datetime.date` here would name the field; mypy refuses it)
    seen_on date NOT NULL DEFAULT current_date
);
