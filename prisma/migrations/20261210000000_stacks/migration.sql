-- Stacks (compose projects on a host), their versions, and the sealed secrets they mount.
CREATE TABLE "Stack" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "project" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'applying',
    "currentVersion" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedById" TEXT,
    CONSTRAINT "Stack_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Stack_hostId_name_key" ON "Stack"("hostId", "name");
ALTER TABLE "Stack" ADD CONSTRAINT "Stack_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "StackVersion" (
    "id" TEXT NOT NULL,
    "stackId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "source" JSONB NOT NULL,
    "model" JSONB NOT NULL,
    "rendered" TEXT NOT NULL,
    "secretNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "result" TEXT NOT NULL DEFAULT 'pending',
    "error" TEXT,
    "override" BOOLEAN NOT NULL DEFAULT false,
    "rollbackOf" INTEGER,
    CONSTRAINT "StackVersion_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "StackVersion_stackId_number_key" ON "StackVersion"("stackId", "number");
ALTER TABLE "StackVersion" ADD CONSTRAINT "StackVersion_stackId_fkey" FOREIGN KEY ("stackId") REFERENCES "Stack"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "Secret" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "description" TEXT,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Secret_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Secret_name_key" ON "Secret"("name");
