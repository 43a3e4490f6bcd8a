import "server-only";
import type { RequestMeta } from "../audit/types";
import type { Viewer } from "../auth/access";
import { db } from "../db";
import { getFleet } from "../fleet/instance";
import { appRouter } from "../routers/_app";
import { createCallerFactory } from "../trpc";

// REST resources call the same procedures as the console, so permission
// checks, host scoping and the procedure's own audit record are identical.

const createCaller = createCallerFactory(appRouter);

export type ApiCaller = ReturnType<typeof createCaller>;

/** `signal`: the client's request; when it goes away, procedures that honour it (a stats subscription) stop. */
export function callerFor(viewer: Viewer, meta: RequestMeta, signal?: AbortSignal): ApiCaller {
  return createCaller({ db: db(), viewer, meta, fleet: getFleet }, signal ? { signal } : undefined);
}
