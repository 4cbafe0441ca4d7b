-- name: BooksWithAuthors :many
SELECT * FROM books JOIN authors ON authors.id = books.author_id ORDER BY books.id;

-- name: SelfJoin :one
SELECT a.name, b.name FROM authors a JOIN authors b ON b.id > a.id WHERE a.id = $1 LIMIT 1;
