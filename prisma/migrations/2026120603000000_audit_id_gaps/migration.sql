-- Audit event ids are consecutive from here on: the writer takes the previous
-- id plus one under its chain lock instead of nextval (whose values a
-- rolled-back write loses), and verify insists on it. Gaps left by the old
-- writer are recorded here, so verify can tell them from events removed later.
-- The application role may read this table, never write it (a gap it could
-- declare would hide a removed event).
CREATE TABLE "AuditIdGap" (
    "afterId" BIGINT NOT NULL,
    "nextId" BIGINT NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AuditIdGap_pkey" PRIMARY KEY ("afterId")
);

INSERT INTO "AuditIdGap" ("afterId", "nextId")
SELECT "prev", "id"
FROM (SELECT "id", lag("id", 1, 0::bigint) OVER (ORDER BY "id") AS "prev" FROM "AuditEvent") AS ids
WHERE "id" <> "prev" + 1;

-- The same guard as AuditEvent's, naming the table it guards.
CREATE OR REPLACE FUNCTION berth_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "AuditIdGap_no_update_delete"
    BEFORE UPDATE OR DELETE ON "AuditIdGap"
    FOR EACH ROW EXECUTE FUNCTION berth_audit_append_only();

CREATE TRIGGER "AuditIdGap_no_truncate"
    BEFORE TRUNCATE ON "AuditIdGap"
    FOR EACH STATEMENT EXECUTE FUNCTION berth_audit_append_only();
