import "server-only";
import { createRouter } from "../trpc";
import { auditRouter } from "./audit";
import { containersRouter } from "./containers";
import { imagesRouter } from "./images";
import { networksRouter, volumesRouter } from "./networks";
import { operationsRouter } from "./operations";
import { policyRouter } from "./policy";
import { registriesRouter } from "./registries";
import { hostsRouter } from "./hosts";
import { meRouter } from "./me";
import { rolesRouter } from "./roles";
import { secretsRouter } from "./secrets";
import { stacksRouter } from "./stacks";
import { tokensRouter } from "./tokens";
import { usersRouter } from "./users";
import { alertsRouter } from "./alerts";
import { approvalsRouter } from "./approvals";
import { channelsRouter } from "./channels";
import { statsRouter } from "./stats";
import { deploymentsRouter } from "./deployments";
import { rolloutsRouter } from "./rollouts";
import { watchesRouter } from "./watches";
import { webhooksRouter } from "./webhooks";

export const appRouter = createRouter({
  me: meRouter,
  users: usersRouter,
  roles: rolesRouter,
  hosts: hostsRouter,
  containers: containersRouter,
  images: imagesRouter,
  networks: networksRouter,
  volumes: volumesRouter,
  registries: registriesRouter,
  policy: policyRouter,
  operations: operationsRouter,
  audit: auditRouter,
  tokens: tokensRouter,
  stacks: stacksRouter,
  secrets: secretsRouter,
  deployments: deploymentsRouter,
  rollouts: rolloutsRouter,
  webhooks: webhooksRouter,
  watches: watchesRouter,
  approvals: approvalsRouter,
  alerts: alertsRouter,
  channels: channelsRouter,
  stats: statsRouter,
});

export type AppRouter = typeof appRouter;
