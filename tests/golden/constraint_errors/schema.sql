-- Every constraint kind the errors module names, explicit and default-named, and every
-- ON DELETE action a referenced row's delete can meet (tests/codegen/test_constraint_errors.py).
CREATE TABLE teams (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    CONSTRAINT name_not_empty CHECK (btrim(name) <> '')
);

CREATE TABLE members (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id bigint NOT NULL REFERENCES teams (id) ON DELETE RESTRICT,
    mentor_id bigint REFERENCES members (id) ON DELETE SET NULL,
    handle  text NOT NULL CHECK (handle ~ '^[A-Za-z]*$'),
    age     int NOT NULL,
    CONSTRAINT name_not_empty CHECK (btrim(handle) <> ''),
    CHECK (age >= 18 AND age < 150),
    UNIQUE (team_id, handle)
);
CREATE UNIQUE INDEX members_handle_lower_key ON members (lower(handle));

CREATE TABLE bookings (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    during    tstzrange NOT NULL,
    EXCLUDE USING gist (during WITH &&)
);

CREATE TABLE notes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id bigint NOT NULL,
    body      text NOT NULL,
    CONSTRAINT notes_member_deferred FOREIGN KEY (member_id) REFERENCES members (id)
        DEFERRABLE INITIALLY DEFERRED
);
