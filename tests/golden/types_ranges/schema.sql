-- Every built-in range and multirange type (multiranges: PostgreSQL 14+), and an array.
CREATE TABLE spans (
    id bigserial PRIMARY KEY,
    r4 int4range NOT NULL,
    r8 int8range,
    rn numrange,
    rd daterange,
    rts tsrange,
    rtz tstzrange,
    m4 int4multirange,
    m8 int8multirange,
    mn nummultirange,
    md datemultirange,
    mts tsmultirange,
    mtz tstzmultirange,
    r4s int4range[]
);
