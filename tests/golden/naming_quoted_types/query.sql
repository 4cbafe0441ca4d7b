-- name: AddTenantMember :one
INSERT INTO tenant_members (tenant_id, user_id, role, seats, spot, level)
VALUES ($1, $2, $3::"TenantMemberRole", sqlc.narg(seats)::"Positive",
        sqlc.narg(spot)::"PointXY", sqlc.narg(level)::audit.level)
RETURNING *;

-- name: CountByRole :one
SELECT count(*) AS n, sqlc.arg(role)::"TenantMemberRole" AS role
FROM tenant_members WHERE role = sqlc.arg(role)::"TenantMemberRole";
