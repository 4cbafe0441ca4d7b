CREATE TYPE http_method AS ENUM ('GET', 'POST');
CREATE TABLE app_ids (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    home_url text NOT NULL,
    method http_method NOT NULL DEFAULT 'GET'
);
