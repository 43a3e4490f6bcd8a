import "server-only";
import { createRouter } from "../trpc";
import { auditRouter } from "./audit";
import { containersRouter } from "./containers";
import { hostsRouter } from "./hosts";
import { meRouter } from "./me";
import { rolesRouter } from "./roles";
import { usersRouter } from "./users";

export const appRouter = createRouter({
  me: meRouter,
  users: usersRouter,
  roles: rolesRouter,
  hosts: hostsRouter,
  containers: containersRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
