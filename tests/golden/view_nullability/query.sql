-- name: ListTeamMembers :many
SELECT sqlc.embed(teams), sqlc.embed(team_members)
FROM teams
JOIN team_members ON teams.id = team_members.team_ref
ORDER BY teams.name;

-- name: ListTeamBadges :many
SELECT * FROM team_badges ORDER BY team_ref;

-- name: ListTeamFirsts :many
SELECT * FROM team_firsts ORDER BY id;

-- name: GetTeamStats :one
SELECT * FROM team_stats;

-- name: ListTeamLabels :many
SELECT * FROM team_labels ORDER BY team;
