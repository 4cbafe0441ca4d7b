-- Types created with quoted, mixed-case names, as ORMs and migration tools write them,
-- and one in another schema: casts to them resolve to the generated classes.
CREATE TYPE "TenantMemberRole" AS ENUM ('owner', 'member');
CREATE DOMAIN "Positive" AS integer CHECK (VALUE > 0);
CREATE TYPE "PointXY" AS (x integer, y integer);
CREATE SCHEMA audit;
CREATE TYPE audit.level AS ENUM ('low', 'high');
CREATE TABLE tenant_members (
    tenant_id integer NOT NULL,
    user_id integer NOT NULL,
    role "TenantMemberRole" NOT NULL,
    seats "Positive",
    spot "PointXY",
    level audit.level
);
