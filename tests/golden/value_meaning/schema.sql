-- One meaning per value across psycopg (sync and async) and asyncpg: the checks each
-- parameter's value passes before it is sent, and which array elements may be NULL.
CREATE TYPE mood AS ENUM ('ok', 'sad');

CREATE TABLE stamps (
    id    bigserial PRIMARY KEY,
    at    timestamptz NOT NULL,  -- an instant: aware datetimes only
    wall  timestamp,             -- wall-clock time: naive datetimes only
    day   date,                  -- a date, not a datetime
    ats   timestamptz[],         -- every element aware
    -- proven: the CHECK keeps NULL elements out, so list[str] and None refused
    tags  text[] NOT NULL DEFAULT '{}'
        CONSTRAINT stamps_tags_no_nulls CHECK (array_position(tags, NULL) IS NULL),
    loose text[] NOT NULL DEFAULT '{}',  -- no CHECK: list[str | None] (negative control)
    moods mood[] NOT NULL DEFAULT '{}',
    mood  mood,
    doc   jsonb,
    CONSTRAINT stamps_moods_no_nulls CHECK (id > 0 AND array_position(moods, NULL::mood) IS NULL)
);

-- Added NOT VALID and never validated: proves nothing, so labels stay list[str | None].
CREATE TABLE marks (
    id     bigserial PRIMARY KEY,
    labels text[] NOT NULL DEFAULT '{}'
);
ALTER TABLE marks ADD CONSTRAINT marks_labels_no_nulls
    CHECK (array_position(labels, NULL) IS NULL) NOT VALID;
