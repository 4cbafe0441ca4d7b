-- name: DeleteAuthorsNamed :execresult
DELETE FROM authors WHERE name = $1;
