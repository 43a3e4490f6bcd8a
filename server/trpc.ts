import "server-only";
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import { appendAudit, prepareAudit } from "./audit/write";
import type { Actor, AuditOutcome, RequestMeta } from "./audit/types";
import { canOnHost, hasPermission, hostCoverage, type Viewer } from "./auth/access";
import type { Permission } from "../lib/permissions";
import type { Db } from "./db";
import { AppError, type AppErrorCode, isAppError, toAppError } from "./errors";
import type { FleetServices } from "./fleet/instance";

// Context, error formatter and the procedure ladder:
// public → protected → permission("x") → hostScoped("x").

export interface AuditNote {
  target?: { type: string; id?: string | null };
  hostId?: string | null;
  /** Replaces the raw input in the audit record (already redacted by the writer). */
  params?: unknown;
}

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

function actorOf(viewer: Viewer | null): Actor {
  // A viewer built from an API token carries the token as its actor.
  const carried = (viewer as { actor?: Actor } | null)?.actor;
  if (carried) return carried;
  return viewer ? { type: "user", id: viewer.user.id, label: viewer.user.email } : { type: "anonymous" };
}

// Every mutation is audited with its outcome; so is every denied query.
//
// The pipeline is "audit intent → act → audit outcome":
//  - a mutation's record is encoded before it runs (prepareAudit is total:
//    whatever the client sent, the record can be stored), so a value Postgres
//    would refuse can no longer fail the write after the action ran;
//  - before a mutation first reaches a host (every host action goes through
//    ctx.fleet()), an `<action>.intent` record is appended. If it can't be
//    written, the host is never contacted and the caller gets UNAVAILABLE;
//  - the outcome record follows, under the procedure's own action name.
const audited = t.middleware(async ({ ctx, type, path, next, getRawInput }) => {
  const note: AuditNote = {};
  const actor = actorOf(ctx.viewer);
  const mutation = type === "mutation";
  let rawInput: unknown = null;
  const prepare = (action: string, outcome: AuditOutcome, errorMessage: string | null) =>
    prepareAudit({
      actor,
      action,
      outcome,
      target: note.target ?? null,
      hostId: note.hostId ?? null,
      params: note.params !== undefined ? note.params : rawInput,
      errorMessage,
      request: ctx.meta,
    });
  if (mutation) {
    rawInput = await getRawInput().catch(() => null);
    prepare(path, "success", null);
  }

  let intent: Promise<void> | undefined;
  let intentFailed = false;
  const fleet: Context["fleet"] = mutation
    ? async () => {
        intent ??= appendAudit(ctx.db, prepare(`${path}.intent`, "success", null)).then(
          () => undefined,
          (e: unknown) => {
            intentFailed = true;
            console.error(`[berth] audit intent for ${path} (request ${ctx.meta.requestId}) could not be written:`, e instanceof Error ? e.message : e);
            throw new AppError("UNAVAILABLE", "The audit log can't be written right now, so nothing was done on the host. Try again later.");
          },
        );
        await intent;
        return ctx.fleet();
      }
    : ctx.fleet;

  const result = await next({ ctx: { audit: note, fleet } });
  const code = result.ok ? null : result.error.code;
  const denied = code === "FORBIDDEN" || code === "UNAUTHORIZED";
  if (mutation || denied) {
    if (!mutation) rawInput = await getRawInput().catch(() => null);
    const record = prepare(path, result.ok ? "success" : denied ? "denied" : "error", result.ok ? null : result.error.message);
    try {
      await appendAudit(ctx.db, record);
    } catch (e) {
      // Nothing ran (the intent already failed): the caller's answer says so; don't turn it into a 500.
      if (!intentFailed) throw e;
      console.error(`[berth] audit record for ${path} (request ${ctx.meta.requestId}) could not be written either:`, e instanceof Error ? e.message : e);
    }
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

export const publicProcedure = t.procedure.use(audited).use(mapAppErrors);

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
