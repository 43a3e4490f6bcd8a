import "server-only";
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import type { RequestMeta } from "./audit/types";
import { canOnHost, hasPermission, hostCoverage, type Viewer } from "./auth/access";
import type { Permission } from "../lib/permissions";
import type { Db } from "./db";
import { type AppErrorCode, isAppError, toAppError } from "./errors";
import { actorOf, AuditTrail } from "./pipeline/audit-log";
import type { FleetServices } from "./fleet/instance";
import { observeTrpc } from "./metrics/registry";

// Context, error formatter and the procedure ladder:
// public → protected → permission("x") → hostScoped("x").

export type { AuditNote } from "./pipeline/audit-log";

export interface Context {
  db: Db;
  viewer: Viewer | null;
  meta: RequestMeta;
  /** The fleet of hosts and the secret box, started on first use. */
  fleet: () => Promise<FleetServices>;
}

const APP_TO_TRPC: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  TIMEOUT: "TIMEOUT",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error, ctx }) {
    const requestId = ctx?.meta.requestId ?? null;
    if (error.cause instanceof ZodError) {
      return {
        ...shape,
        message: z.prettifyError(error.cause),
        data: { ...shape.data, stack: undefined, requestId, issues: error.cause.issues },
      };
    }
    const violations = isAppError(error.cause) ? error.cause.details.policyViolations : undefined;
    if (violations) {
      // The form shows each broken rule next to its field.
      return { ...shape, data: { ...shape.data, stack: undefined, requestId, policyViolations: violations } };
    }
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: internal ? `Something went wrong on the server (request id ${requestId ?? "unknown"}).` : shape.message,
      data: { ...shape.data, stack: undefined, requestId },
    };
  },
});

export const createRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

// Every mutation is audited with its outcome; so is every denied query.
//
// The pipeline's audit step (server/pipeline/audit-log.ts's AuditTrail, as
// every entry point uses it): "audit intent → act → audit outcome".
//  - records are encoded by prepareAudit, which is total (whatever the client
//    sent, the record can be stored), so a value Postgres would refuse can't
//    fail the write after the action ran;
//  - before a mutation first reaches a host (every host action goes through
//    ctx.fleet()), an `<action>.intent` record is appended. If it can't be
//    written, the host is never contacted and the caller gets UNAVAILABLE;
//  - the outcome record follows, under the procedure's own action name.
const audited = t.middleware(async ({ ctx, type, path, next, getRawInput }) => {
  const mutation = type === "mutation";
  const trail = new AuditTrail({ db: ctx.db, meta: ctx.meta, actor: actorOf(ctx.viewer), action: path, log: (line) => console.error(`[berth] ${line}`) });
  if (mutation) trail.defaultParams = await getRawInput().catch(() => null);
  // The intent goes on record the first time the mutation reaches for the fleet; if it can't, the fleet is never handed out.
  const fleet: Context["fleet"] = mutation
    ? async () => {
        await trail.intent();
        return ctx.fleet();
      }
    : ctx.fleet;

  const result = await next({ ctx: { audit: trail.note, fleet } });
  const code = result.ok ? null : result.error.code;
  const denied = code === "FORBIDDEN" || code === "UNAUTHORIZED";
  if (mutation || denied) {
    if (!mutation) trail.defaultParams = await getRawInput().catch(() => null);
    // Throws if the record can't be written, unless nothing ran (the intent failed): then the caller's answer says so.
    await trail.outcome(result.ok ? "success" : denied ? "denied" : "error", result.ok ? null : result.error.message);
  }
  return result;
});

// Errors from services, the policy gate and hosts become tRPC errors here, and
// only here: toAppError brings them into the AppError family (a host's
// internal error hidden behind the request id), and the code maps once.
const mapAppErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    // A ZodError stays as it is: the error formatter shows its issues field by field.
    const app = cause === undefined || cause instanceof ZodError ? null : toAppError(cause, { requestId: ctx.meta.requestId });
    if (app) throw new TRPCError({ code: APP_TO_TRPC[app.code], message: app.message, cause: app });
  }
  return result;
});

// Each call's duration for /metrics, by procedure (a bounded set: the router's own paths) and result.
const timed = t.middleware(async ({ type, path, next }) => {
  const started = process.hrtime.bigint();
  const result = await next();
  observeTrpc(path, type, result.ok ? "ok" : result.error.code, Number(process.hrtime.bigint() - started) / 1e9);
  return result;
});

export const publicProcedure = t.procedure.use(timed).use(audited).use(mapAppErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.viewer) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next({ ctx: { viewer: ctx.viewer } });
});

/** Requires the permission (any of several, if a list is given). Fails closed. */
export function permissionProcedure(permission: Permission | Permission[]) {
  const wanted = Array.isArray(permission) ? permission : [permission];
  return protectedProcedure.use(({ ctx, next }) => {
    if (!wanted.some((p) => hasPermission(ctx.viewer, p))) {
      throw new TRPCError({ code: "FORBIDDEN", message: `You need the ${wanted.join(" or ")} permission.` });
    }
    return next({ ctx: { coverage: hostCoverage(ctx.viewer, wanted[0]!) } });
  });
}

/** Requires the permission on the host named by input.hostId; puts the host on ctx. */
export function hostScopedProcedure(permission: Permission) {
  return permissionProcedure(permission)
    .input(z.object({ hostId: z.string().min(1).max(64) }))
    .use(async ({ ctx, input, next }) => {
      ctx.audit.hostId = input.hostId;
      const host = await ctx.db.host.findUnique({ where: { id: input.hostId } });
      if (!host || !canOnHost(ctx.viewer, permission, host)) {
        throw new TRPCError({ code: "FORBIDDEN", message: `You need the ${permission} permission on this host.` });
      }
      return next({ ctx: { host } });
    });
}
