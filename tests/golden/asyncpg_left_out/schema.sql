CREATE TABLE bookings (
    id bigserial PRIMARY KEY,
    during tstzrange NOT NULL
);
