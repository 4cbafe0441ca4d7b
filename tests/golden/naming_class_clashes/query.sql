-- name: GetPet :one
SELECT id, name, card FROM pets WHERE id = $1;

-- name: GetPetRowNote :one
SELECT * FROM get_pet_rows WHERE id = $1;

-- name: AddPet :one
INSERT INTO pets (name, card) VALUES ($1, $2) RETURNING *;
