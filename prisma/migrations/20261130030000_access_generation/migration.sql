-- One row counting changes that can alter who may do what: a token created,
-- revoked, re-scoped or removed; a user disabled or removed; a role, its
-- permissions or a role binding changed; a host added, removed, renamed or
-- moved between groups. Bumped by triggers in the same transaction as the
-- change, whichever process (or psql session) makes it, so anything that
-- remembers an authentication result (the Docker-API proxy keeps one for up
-- to a second) reads this one row per request and drops what it remembered
-- once the value moved. Written by raw SQL only: it is not a Prisma model
-- (server/auth/generation.ts reads it with $queryRaw).
CREATE TABLE "AccessGeneration" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "value" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "AccessGeneration_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "AccessGeneration_one_row" CHECK ("id" = 1)
);
INSERT INTO "AccessGeneration" ("id", "value") VALUES (1, 0);

CREATE FUNCTION "berth_bump_access_generation"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "AccessGeneration" SET "value" = "value" + 1 WHERE "id" = 1;
    RETURN NULL;
END;
$$;

-- Statement-level: one bump per statement, however many rows it touched (cascades included).
-- Updates count only when they set a column that decides access: a token's use
-- (lastUsedAt/lastUsedIp) or a host's status and facts never bump it.
CREATE TRIGGER "ApiToken_access_generation" AFTER INSERT OR DELETE OR TRUNCATE ON "ApiToken"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();
CREATE TRIGGER "ApiToken_access_generation_update" AFTER UPDATE OF "id", "userId", "name", "hash", "permissions", "hostIds", "hostGroupIds", "expiresAt", "revokedAt" ON "ApiToken"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();

CREATE TRIGGER "User_access_generation" AFTER INSERT OR DELETE OR TRUNCATE ON "User"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();
CREATE TRIGGER "User_access_generation_update" AFTER UPDATE OF "id", "email", "disabled" ON "User"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();

CREATE TRIGGER "Role_access_generation" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Role"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();
CREATE TRIGGER "RoleBinding_access_generation" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "RoleBinding"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();

CREATE TRIGGER "Host_access_generation" AFTER INSERT OR DELETE OR TRUNCATE ON "Host"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();
CREATE TRIGGER "Host_access_generation_update" AFTER UPDATE OF "id", "name", "hostGroupId" ON "Host"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();
CREATE TRIGGER "HostGroup_access_generation" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "HostGroup"
    FOR EACH STATEMENT EXECUTE FUNCTION "berth_bump_access_generation"();
