-- Deploy policies per host group, saved deployments, and saved registry credentials.
CREATE TABLE "DeployPolicy" (
    "id" TEXT NOT NULL,
    "scopeKey" TEXT NOT NULL,
    "hostGroupId" TEXT,
    "rules" JSONB NOT NULL,
    "updatedById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "DeployPolicy_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "DeployPolicy_scopeKey_key" ON "DeployPolicy"("scopeKey");

CREATE TABLE "Deployment" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "containerId" TEXT,
    "imageId" TEXT,
    "status" TEXT NOT NULL DEFAULT 'deploying',
    "message" TEXT,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Deployment_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Deployment_hostId_name_key" ON "Deployment"("hostId", "name");
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "Registry" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "credential" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Registry_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Registry_name_key" ON "Registry"("name");
