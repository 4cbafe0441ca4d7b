CREATE TYPE "Mood" AS ENUM ('sad', 'ok');
CREATE SCHEMA audit;
CREATE TYPE audit.level AS ENUM ('low', 'high');
CREATE TABLE entries (id integer NOT NULL, mood "Mood" NOT NULL, level audit.level NOT NULL);
