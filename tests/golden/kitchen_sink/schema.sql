CREATE TYPE mood AS ENUM ('sad','ok','happy');
CREATE DOMAIN eth_address AS text CHECK (VALUE ~ '^0x[0-9a-f]{40}$');
CREATE TYPE point2 AS (x double precision, y double precision);
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  username text NOT NULL,
  wallet eth_address,
  m mood NOT NULL DEFAULT 'ok',
  tags text[] NOT NULL DEFAULT '{}',
  grid int[][],
  p point2,
  n numeric(10,2),
  ip inet,
  data jsonb,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);
COMMENT ON TABLE users IS 'People.';
COMMENT ON COLUMN users.username IS 'Login name.';
CREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), title varchar(200) NOT NULL);
CREATE FUNCTION next_n(r bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT r + 1 $$;
