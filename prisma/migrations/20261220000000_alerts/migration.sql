-- Alerts: rules, channels, alerts (one unresolved per rule and subject), their
-- notifications (the delivery queue), silences; stats history.
CREATE TABLE "AlertRule" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "severity" TEXT NOT NULL DEFAULT 'warning',
    "scopeKey" TEXT NOT NULL DEFAULT 'all',
    "labelSelector" JSONB NOT NULL DEFAULT '{}',
    "params" JSONB NOT NULL DEFAULT '{}',
    "forSeconds" INTEGER NOT NULL DEFAULT 0,
    "repeatMinutes" INTEGER NOT NULL DEFAULT 240,
    "channelIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "builtIn" BOOLEAN NOT NULL DEFAULT false,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "AlertRule_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AlertRule_name_key" ON "AlertRule"("name");

CREATE TABLE "AlertChannel" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "config" JSONB NOT NULL DEFAULT '{}',
    "secret" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdById" TEXT,
    "lastDeliveryAt" TIMESTAMP(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "AlertChannel_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AlertChannel_name_key" ON "AlertChannel"("name");

CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "subjectKey" TEXT NOT NULL,
    "hostId" TEXT,
    "containerId" TEXT,
    "containerName" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "severity" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "timeline" JSONB NOT NULL DEFAULT '[]',
    "startsAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "firedAt" TIMESTAMP(3),
    "resolvedAt" TIMESTAMP(3),
    "lastNotifiedAt" TIMESTAMP(3),
    "notifyCount" INTEGER NOT NULL DEFAULT 0,
    "silenceId" TEXT,
    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Alert_status_startsAt_idx" ON "Alert"("status", "startsAt");
CREATE INDEX "Alert_ruleId_subjectKey_idx" ON "Alert"("ruleId", "subjectKey");
CREATE INDEX "Alert_hostId_startsAt_idx" ON "Alert"("hostId", "startsAt");
-- One unresolved alert per rule and subject: the evaluator's upsert relies on it.
CREATE UNIQUE INDEX "Alert_open_per_subject" ON "Alert"("ruleId", "subjectKey") WHERE "status" <> 'resolved';
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "AlertRule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "AlertNotification" (
    "id" TEXT NOT NULL,
    "alertId" TEXT,
    "channelId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "sentAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AlertNotification_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "AlertNotification_status_nextAttemptAt_idx" ON "AlertNotification"("status", "nextAttemptAt");
CREATE INDEX "AlertNotification_alertId_idx" ON "AlertNotification"("alertId");
CREATE INDEX "AlertNotification_channelId_createdAt_idx" ON "AlertNotification"("channelId", "createdAt");
ALTER TABLE "AlertNotification" ADD CONSTRAINT "AlertNotification_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "Silence" (
    "id" TEXT NOT NULL,
    "ruleId" TEXT,
    "scopeKey" TEXT,
    "labelSelector" JSONB NOT NULL DEFAULT '{}',
    "comment" TEXT NOT NULL,
    "startsAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "createdById" TEXT,
    "createdByLabel" TEXT,
    "endedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Silence_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Silence_endsAt_idx" ON "Silence"("endsAt");

CREATE TABLE "StatSample" (
    "id" BIGSERIAL NOT NULL,
    "hostId" TEXT NOT NULL,
    "containerId" TEXT NOT NULL DEFAULT '',
    "containerName" TEXT NOT NULL DEFAULT '',
    "at" TIMESTAMP(3) NOT NULL,
    "cpuPercent" DOUBLE PRECISION NOT NULL,
    "memoryBytes" BIGINT NOT NULL,
    "memoryLimitBytes" BIGINT,
    "netRxBytes" BIGINT NOT NULL DEFAULT 0,
    "netTxBytes" BIGINT NOT NULL DEFAULT 0,
    "blockReadBytes" BIGINT NOT NULL DEFAULT 0,
    "blockWriteBytes" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "StatSample_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "StatSample_hostId_containerId_at_key" ON "StatSample"("hostId", "containerId", "at");
CREATE INDEX "StatSample_at_idx" ON "StatSample"("at");
