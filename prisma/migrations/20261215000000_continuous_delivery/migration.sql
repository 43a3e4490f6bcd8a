-- Continuous delivery: rollouts (the queue and the history), deploy webhooks,
-- image watching, registry tag digests, approval rules and requests.
ALTER TYPE "ActorType" ADD VALUE 'webhook' BEFORE 'system';

CREATE TABLE "Rollout" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "deploymentId" TEXT,
    "stackId" TEXT,
    "services" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "trigger" TEXT NOT NULL,
    "actorType" "ActorType" NOT NULL,
    "actorId" TEXT,
    "actorLabel" TEXT,
    "requestedById" TEXT,
    "webhookId" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "notBefore" TIMESTAMP(3),
    "imageRef" TEXT,
    "digestBefore" TEXT,
    "digestAfter" TEXT,
    "digests" JSONB NOT NULL DEFAULT '{}',
    "specBefore" JSONB,
    "specAfter" JSONB,
    "versionBefore" INTEGER,
    "versionAfter" INTEGER,
    "specDiff" JSONB NOT NULL DEFAULT '[]',
    "verdict" JSONB,
    "override" BOOLEAN NOT NULL DEFAULT false,
    "strategy" TEXT,
    "reason" TEXT,
    "logTail" TEXT,
    "steps" JSONB NOT NULL DEFAULT '[]',
    "rollbackOfId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Rollout_status_createdAt_idx" ON "Rollout"("status", "createdAt");
CREATE INDEX "Rollout_deploymentId_createdAt_idx" ON "Rollout"("deploymentId", "createdAt");
CREATE INDEX "Rollout_stackId_createdAt_idx" ON "Rollout"("stackId", "createdAt");
CREATE INDEX "Rollout_hostId_createdAt_idx" ON "Rollout"("hostId", "createdAt");
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "Webhook" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "deploymentId" TEXT,
    "stackId" TEXT,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "signingKey" TEXT NOT NULL,
    "tagPattern" TEXT,
    "sourceCidrs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "preApproved" BOOLEAN NOT NULL DEFAULT false,
    "createdById" TEXT NOT NULL,
    "tokenId" TEXT,
    "expiresAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "lastUsedIp" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Webhook_hash_key" ON "Webhook"("hash");
CREATE INDEX "Webhook_deploymentId_idx" ON "Webhook"("deploymentId");
CREATE INDEX "Webhook_stackId_idx" ON "Webhook"("stackId");

CREATE TABLE "ImageWatch" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "deploymentId" TEXT,
    "stackId" TEXT,
    "service" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "intervalSeconds" INTEGER NOT NULL DEFAULT 300,
    "minAgeSeconds" INTEGER NOT NULL DEFAULT 0,
    "window" JSONB,
    "preApproved" BOOLEAN NOT NULL DEFAULT false,
    "createdById" TEXT NOT NULL,
    "tokenId" TEXT,
    "nextCheckAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastCheckedAt" TIMESTAMP(3),
    "lastError" TEXT,
    "seenDigest" TEXT,
    "seenAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "ImageWatch_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ImageWatch_deploymentId_stackId_service_key" ON "ImageWatch"("deploymentId", "stackId", "service");
CREATE INDEX "ImageWatch_nextCheckAt_idx" ON "ImageWatch"("nextCheckAt");

CREATE TABLE "TagDigest" (
    "reference" TEXT NOT NULL,
    "digest" TEXT,
    "checkedAt" TIMESTAMP(3) NOT NULL,
    "error" TEXT,
    "retryAfter" TIMESTAMP(3),
    CONSTRAINT "TagDigest_pkey" PRIMARY KEY ("reference")
);

CREATE TABLE "ApprovalRule" (
    "id" TEXT NOT NULL,
    "scopeKey" TEXT NOT NULL,
    "hostId" TEXT,
    "hostGroupId" TEXT,
    "expiryHours" INTEGER NOT NULL DEFAULT 72,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "ApprovalRule_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ApprovalRule_scopeKey_key" ON "ApprovalRule"("scopeKey");

CREATE TABLE "ApprovalRequest" (
    "id" TEXT NOT NULL,
    "rolloutId" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "requestedById" TEXT,
    "requestedLabel" TEXT,
    "status" TEXT NOT NULL DEFAULT 'waiting',
    "decidedById" TEXT,
    "decidedLabel" TEXT,
    "decidedAt" TIMESTAMP(3),
    "comment" TEXT,
    "runAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ApprovalRequest_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ApprovalRequest_rolloutId_key" ON "ApprovalRequest"("rolloutId");
CREATE INDEX "ApprovalRequest_status_createdAt_idx" ON "ApprovalRequest"("status", "createdAt");
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "Rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;
