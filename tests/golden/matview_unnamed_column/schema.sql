-- sqlc's catalog gives the unnamed column of SELECT 1 the name "" (PostgreSQL calls it
-- ?column?). Its model field is named by position, as a query's unnamed column is;
-- the plugin used to refuse the whole package over it.
CREATE TABLE scores (
    id int PRIMARY KEY,
    points int NOT NULL
);

CREATE MATERIALIZED VIEW score_totals AS (SELECT 1, sum(points) AS total FROM scores);
