CREATE TYPE mark AS ENUM ('#', '*', '-', 'in progress', 'in-progress', '1st', '', 'café');
CREATE TABLE marks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mark mark NOT NULL
);
