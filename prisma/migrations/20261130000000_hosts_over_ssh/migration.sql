-- Hosts over SSH: credentials (sealed), pinned host keys, agent settings and last-seen facts.
CREATE TYPE "HostTransport" AS ENUM ('ssh', 'local');
CREATE TYPE "HostStatus" AS ENUM ('pending', 'connected', 'unreachable', 'hostKeyChanged', 'authFailed');

ALTER TABLE "Host"
    ADD COLUMN "transport" "HostTransport" NOT NULL DEFAULT 'ssh',
    ADD COLUMN "username" TEXT NOT NULL DEFAULT 'root',
    ADD COLUMN "authMethod" TEXT NOT NULL DEFAULT 'key',
    ADD COLUMN "credential" TEXT,
    ADD COLUMN "hostKeyFingerprint" TEXT,
    ADD COLUMN "presentedFingerprint" TEXT,
    ADD COLUMN "labels" TEXT[] DEFAULT ARRAY[]::TEXT[],
    ADD COLUMN "agentConfig" JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN "agentVersion" TEXT,
    ADD COLUMN "facts" JSONB,
    ADD COLUMN "status" "HostStatus" NOT NULL DEFAULT 'pending',
    ADD COLUMN "statusMessage" TEXT,
    ADD COLUMN "lastSeenAt" TIMESTAMP(3);
