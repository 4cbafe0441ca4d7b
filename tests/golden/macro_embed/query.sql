-- name: BooksWithAuthors :many
SELECT sqlc.embed(books), sqlc.embed(authors)
FROM books JOIN authors ON authors.id = books.author_id
ORDER BY books.id;

-- The embedded book is on the nullable side of the outer join.
-- name: AuthorsWithBooks :many
SELECT sqlc.embed(authors), sqlc.embed(books)
FROM authors LEFT JOIN books ON books.author_id = authors.id
ORDER BY authors.id, books.id;
