-- The asyncpg target beside the psycopg ones (emit_asyncpg: true): every command, an
-- enum, an enum array, jsonb in and out, an embed, a Row class and a bare value, each
-- printed three times (sync, psycopg async, asyncpg) from the same SQL constants.

-- name: CreateAuthor :one
INSERT INTO authors (name, mood, moods, profile, tags)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetAuthor :one
SELECT * FROM authors WHERE id = $1;

-- name: ListAuthors :many
SELECT * FROM authors WHERE id > sqlc.arg(after_id) ORDER BY id LIMIT sqlc.arg(page_size)::int;

-- name: CountAuthors :one
SELECT count(*) FROM authors;

-- name: AuthorProfile :one
SELECT profile FROM authors WHERE id = $1;

-- name: BooksWithAuthors :many
SELECT sqlc.embed(books), sqlc.embed(authors)
FROM books JOIN authors ON authors.id = books.author_id
ORDER BY books.id;

-- name: BookTitles :many
SELECT b.id, b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id
ORDER BY b.id;

-- name: TouchAuthor :exec
UPDATE authors SET name = name WHERE id = $1;

-- name: RenameAuthors :execrows
UPDATE authors SET name = sqlc.arg(new_name) WHERE name = sqlc.arg(old_name);

-- name: DeleteBook :execresult
DELETE FROM books WHERE id = $1;

-- name: CopyAuthors :copyfrom
INSERT INTO authors (name, mood, profile) VALUES ($1, $2, $3);

-- name: AddBooks :batchexec
INSERT INTO books (author_id, title, price) VALUES ($1, $2, $3);

-- name: AddBookReturning :batchone
INSERT INTO books (author_id, title) VALUES ($1, $2) RETURNING *;

-- name: FindBookIDs :batchone
SELECT id FROM books WHERE title = $1;

-- name: BooksOfAuthor :batchmany
SELECT * FROM books WHERE author_id = $1 ORDER BY id;
