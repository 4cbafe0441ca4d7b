-- emit_classes: true on all three targets: Queries(conn) in the module, AsyncQueries in
-- aio/ and asyncpg/, one method per function (iter_* streams included) calling it.
-- A parameter named self, or like its function, is escaped (self_, get_bio_).

-- name: CreateAuthor :one
INSERT INTO authors (name, bio) VALUES ($1, $2) RETURNING *;

-- name: GetBio :one
SELECT bio FROM authors WHERE name = sqlc.arg(self) OR name = sqlc.arg(get_bio);

-- name: ListAuthors :many
SELECT * FROM authors ORDER BY id;

-- name: DeleteAuthors :execrows
DELETE FROM authors;

-- name: AddAuthors :batchexec
INSERT INTO authors (name, bio) VALUES ($1, $2);

-- name: CopyAuthors :copyfrom
INSERT INTO authors (name, bio) VALUES ($1, $2);
