-- A view's column is NOT NULL only when the view's defining query proves it.
-- PostgreSQL records every view column as nullable; sqlc's catalog marks these
-- NOT NULL where its reading of the definition misses an outer join or a NULL.
CREATE TABLE teams (
    id uuid PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE members (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id),
    handle text NOT NULL
);

CREATE TABLE badges (
    id int PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    label text NOT NULL
);

-- members.* is on the LEFT JOIN's nullable side (sqlc gets this right); team_ref is
-- teams.id on the preserved side, proven NOT NULL: it stays uuid.UUID.
CREATE VIEW team_members AS (
    SELECT members.*, teams.id AS team_ref
    FROM teams LEFT JOIN members ON teams.id = members.team_id
);

-- A join nested on the nullable side: sqlc marked handle and label NOT NULL.
CREATE VIEW team_badges AS
SELECT t.id AS team_ref, m.handle, b.label
FROM teams t
LEFT JOIN (members m JOIN badges b ON b.member_id = m.id) ON m.team_id = t.id;

-- A LATERAL subquery, a scalar subquery and an aggregate over no rows: sqlc marked
-- latest, first_handle and top_name NOT NULL.
CREATE VIEW team_firsts AS
SELECT t.id,
       x.handle AS latest,
       (SELECT m.handle FROM members m WHERE m.team_id = t.id ORDER BY m.handle LIMIT 1)
           AS first_handle
FROM teams t
LEFT JOIN LATERAL (
    SELECT handle FROM members WHERE members.team_id = t.id ORDER BY handle DESC LIMIT 1
) x ON true;

CREATE VIEW team_stats AS
SELECT max(name)::text AS top_name, count(*) AS team_count FROM teams;

-- A view over a view sees the first one's columns as proven: team_ref stays NOT NULL,
-- label stays nullable.
CREATE VIEW team_labels AS
SELECT team_ref AS team, label AS badge FROM team_badges;
