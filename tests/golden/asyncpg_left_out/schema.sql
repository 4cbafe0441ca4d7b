CREATE TABLE bookings (
    id bigserial PRIMARY KEY,
    during tstzrange NOT NULL,
    seats int2vector NOT NULL DEFAULT ''
);
