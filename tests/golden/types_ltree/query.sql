-- name: AddCategory :one
INSERT INTO categories (path, aliases) VALUES ($1, $2) RETURNING *;

-- name: CategoriesUnder :many
SELECT id, path FROM categories WHERE path <@ sqlc.arg(root)::ltree ORDER BY id;

-- name: AddCategoryPath :one
-- The aliases go in as a list (both drivers); read back they differ (AddCategory).
INSERT INTO categories (path, aliases) VALUES ($1, $2) RETURNING id, path;
