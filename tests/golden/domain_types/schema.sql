CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE subscribers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address email NOT NULL,
    weight positive
);
