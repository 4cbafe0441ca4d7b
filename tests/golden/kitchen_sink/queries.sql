-- Insert one row of every type.
-- Returns the whole row, so the function returns the Kind model.
-- name: InsertKind :one
INSERT INTO kinds (small, regular, big, amount, ratio, precise, flag, label, code, fixed, blob,
                   ident, day, at_time, at_timetz, local_ts, ts, span, doc, docb, addr, net,
                   tags, grid, feeling, feelings, wallet, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23, $24, $25, $26, $27, sqlc.narg(note))
RETURNING *;

-- name: GetKind :one
SELECT * FROM kinds WHERE id = $1;

-- name: ListKindsByIds :many
SELECT id, label, feeling FROM kinds WHERE id = ANY(sqlc.arg(ids)::bigint[]) ORDER BY id;

-- name: CountKinds :one
SELECT count(*) FROM kinds;

-- name: KindStats :one
SELECT max(label) AS max_label, sum(big) AS total_big, sum(regular) AS total_regular,
       avg(precise) AS mean_precise, count(*) AS n, array_agg(id ORDER BY id) AS ids,
       min(ts) AS first_ts
FROM kinds WHERE feeling = sqlc.arg(feeling);

-- name: NullabilityCases :one
SELECT (SELECT max(k.id) FROM kinds k) AS scalar_sub,
       CASE WHEN p.id > 10 THEN 'big' END AS no_else,
       CASE WHEN p.id > 10 THEN 'big' ELSE 'small' END AS with_else,
       k.docb -> 'a' AS json_path,
       k.docb ->> 'a' AS json_text,
       double_it(p.id) AS doubled,
       coalesce(k.note, '') AS note_or_empty,
       EXISTS (SELECT 1 FROM owners) AS any_owner,
       count(*) OVER () AS total,
       k.note AS "forced!",
       p.name AS "maybe?"
FROM pets p JOIN kinds k ON k.id = p.owner_id
WHERE p.id = $1;

-- name: UnionWithNull :many
SELECT id FROM pets UNION ALL SELECT NULL::bigint ORDER BY 1;

-- name: PetsWithOwners :many
SELECT sqlc.embed(o), sqlc.embed(p)
FROM owners o LEFT JOIN pets p ON p.owner_id = o.id
ORDER BY o.id, p.id;

-- name: CreateOwner :one
INSERT INTO owners ("class", "from") VALUES ($1, $2) RETURNING *;

-- Percent signs, $ signs, quotes, backslashes and triple quotes stay literal.
-- name: OddText :one
SELECT '100% \n "quoted" ''single'' $1 """' || sqlc.arg(suffix)::text AS odd;

-- name: RenamePet :execrows
UPDATE pets SET name = sqlc.arg(new_name) WHERE id = sqlc.arg(id);

-- name: TouchPets :execresult
UPDATE pets SET feeling = $1;

-- name: DeletePet :exec
DELETE FROM pets WHERE id = $1;

-- name: CopyPets :copyfrom
INSERT INTO pets (owner_id, name, feeling) VALUES ($1, $2, $3);

-- name: AddPets :batchexec
INSERT INTO pets (owner_id, name) VALUES ($1, $2);

-- name: GetPetsBatch :batchone
SELECT * FROM pets WHERE id = $1;

-- name: PetsOfOwnersBatch :batchmany
SELECT * FROM pets WHERE owner_id = $1 ORDER BY id;

-- name: SetDoc :one
UPDATE kinds SET docb = $1, doc = sqlc.narg(doc) WHERE id = $2 RETURNING docb, doc;

-- name: GetOwner :one
SELECT * FROM owners WHERE id = $1;

-- name: DeleteOwner :exec
DELETE FROM owners WHERE id = $1;

-- name: RenamePets :batchexec
UPDATE pets SET name = sqlc.arg(new_name) WHERE id = sqlc.arg(id);

-- name: SetSpot :one
UPDATE kinds SET spot = sqlc.narg(spot) WHERE id = sqlc.arg(id) RETURNING spot;

-- Locks its rows: its iter_ twin runs only inside a transaction (no WITH HOLD cursor).
-- name: LockPetsOfOwner :many
SELECT id, name FROM pets WHERE owner_id = $1 ORDER BY id FOR UPDATE;

-- No iter_ twin: PostgreSQL can't DECLARE a cursor over UPDATE ... RETURNING.
-- name: ShoutPetNames :many
UPDATE pets SET name = upper(name) WHERE owner_id = $1 RETURNING id, name;

-- No iter_ twin: nor over a data-modifying WITH.
-- name: MovePets :many
WITH moved AS (
    UPDATE pets SET owner_id = sqlc.arg(to_owner) WHERE owner_id = sqlc.arg(from_owner)
    RETURNING id
)
SELECT id FROM moved ORDER BY id;
