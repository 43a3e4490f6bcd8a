import "server-only";
import { z } from "zod";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { idParam } from "./schemas";

// /api/v1 endpoints of registry watching (server/watch): a deployment's or a
// stack service's watch, "check now" and removal. Spread into ENDPOINTS.

const none = z.strictObject({});
const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });
function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

const timestamp = z.string().describe("RFC 3339");
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 24-hour");

export const maintenanceWindowBody = z
  .object({
    days: z.array(z.number().int().min(0).max(6)).max(7).describe("Days the window opens on, 0 = Sunday; empty: every day. A window crossing midnight belongs to the day it starts."),
    start: hhmm.describe("Opens at (HH:MM, local time of timeZone)."),
    end: hhmm.describe("Closes at (HH:MM); at or before start: the next day; equal to start: the whole day."),
    timeZone: z.string().min(1).max(64).describe("An IANA time zone: UTC, Europe/Berlin…"),
  })
  .meta({ id: "MaintenanceWindow" });

export const watchBody = z
  .object({
    id: z.string(),
    target: z.object({ kind: z.enum(["deployment", "stack"]), id: z.string(), service: z.string().describe("The stack's service; empty for a deployment.") }),
    enabled: z.boolean(),
    intervalSeconds: z.number().int(),
    minAgeSeconds: z.number().int().describe("A new digest is rolled out once it has been on the tag this long (counted from when Berth first saw it)."),
    window: maintenanceWindowBody.nullable(),
    preApproved: z.boolean(),
    reference: z.string().describe("The tag followed (registry/repository:tag)."),
    currentDigest: z.string().nullable().describe("The digest the running container's image has."),
    seenDigest: z.string().nullable().describe("The newest digest seen on the tag."),
    seenAt: timestamp.nullable().describe("When Berth first saw seenDigest on the tag."),
    updateAvailable: z.boolean(),
    lastCheckedAt: timestamp.nullable(),
    lastError: z.string().nullable(),
    nextCheckAt: timestamp,
    state: z.object({
      kind: z.enum(["disabled", "unchecked", "error", "upToDate", "waitingForAge", "outsideWindow", "due", "rolloutRequested", "refused"]),
      message: z.string(),
      until: timestamp.nullable(),
      rolloutId: z.string().nullable(),
    }),
  })
  .meta({ id: "Watch" });

export const watchSettingsBody = z.strictObject({
  enabled: z.boolean().describe("false keeps the settings but stops checking."),
  intervalSeconds: z.number().int().min(10).max(86_400).default(300).describe("How often the tag is checked."),
  minAgeSeconds: z.number().int().min(0).max(30 * 86_400).default(0).describe("Minimum age of a new digest before it is rolled out."),
  window: maintenanceWindowBody.nullable().default(null).describe("Roll out only inside this window; null: any time."),
  preApproved: z.boolean().default(false).describe("Skip approval (only someone holding deploys.approve on the host may set it)."),
});

const deploymentParams = z.strictObject({ deploymentId: idParam.describe("The deployment's id (GET /deployments).") });
const stackParams = z.strictObject({ stackId: idParam.describe("The stack's id (GET /stacks).") });
const serviceParams = stackParams.extend({ service: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "a service name").describe("The service's name in the compose file.") });
const watchParams = z.strictObject({ watchId: idParam.describe("The watch's id.") });

const SETTINGS_EXAMPLE = { enabled: true, intervalSeconds: 300, minAgeSeconds: 3600, window: { days: [1, 2, 3, 4, 5], start: "22:00", end: "02:00", timeZone: "Europe/Berlin" } };

export const WATCH_ENDPOINTS = {
  getDeploymentWatch: endpoint({
    id: "getDeploymentWatch",
    method: "GET",
    path: "/deployments/{deploymentId}/watch",
    resource: "Deployments",
    summary: "A deployment's registry watch (null when it has none)",
    permission: "containers.read",
    action: "api.v1.watches.get",
    mutation: false,
    params: deploymentParams,
    query: none,
    answers: [json(200, "The watch, or null.", watchBody.nullable())],
    errors: [403, 404],
  }),
  setDeploymentWatch: endpoint({
    id: "setDeploymentWatch",
    method: "POST",
    path: "/deployments/{deploymentId}/watch",
    resource: "Deployments",
    summary: "Follow the deployment's tag: check it on a schedule and roll out new digests (creates or replaces the watch)",
    description: "The watch acts for whoever set it last, with their rights as they are at each rollout.",
    permission: "containers.deploy",
    action: "api.v1.watches.set",
    mutation: true,
    params: deploymentParams,
    query: none,
    body: watchSettingsBody,
    answers: [json(200, "The watch.", watchBody)],
    errors: [400, 403, 404],
    example: { body: SETTINGS_EXAMPLE },
  }),
  listStackWatches: endpoint({
    id: "listStackWatches",
    method: "GET",
    path: "/stacks/{stackId}/watches",
    resource: "Stacks",
    summary: "A stack's services with their watches and whether an update is available",
    permission: "stacks.read",
    action: "api.v1.watches.forStack",
    mutation: false,
    params: stackParams,
    query: none,
    answers: [json(200, "One entry per service.", z.array(z.object({ service: z.string(), watch: watchBody.nullable(), updateAvailable: z.boolean() })))],
    errors: [403, 404],
  }),
  setStackServiceWatch: endpoint({
    id: "setStackServiceWatch",
    method: "POST",
    path: "/stacks/{stackId}/services/{service}/watch",
    resource: "Stacks",
    summary: "Follow a stack service's tag (creates or replaces its watch)",
    permission: "stacks.deploy",
    action: "api.v1.watches.set",
    mutation: true,
    params: serviceParams,
    query: none,
    body: watchSettingsBody,
    answers: [json(200, "The watch.", watchBody)],
    errors: [400, 403, 404],
    example: { body: SETTINGS_EXAMPLE },
  }),
  checkWatch: endpoint({
    id: "checkWatch",
    method: "POST",
    path: "/watches/{watchId}/check",
    resource: "Deployments",
    summary: "Check a watch's tag now (and roll out if the rules allow)",
    permission: null,
    description: "Needs containers.deploy (a deployment's watch) or stacks.deploy (a stack's) on the host.",
    action: "api.v1.watches.check",
    mutation: true,
    params: watchParams,
    query: none,
    answers: [json(200, "The watch after the check.", watchBody)],
    errors: [403, 404],
  }),
  removeWatch: endpoint({
    id: "removeWatch",
    method: "DELETE",
    path: "/watches/{watchId}",
    resource: "Deployments",
    summary: "Stop following the tag and forget the watch",
    permission: null,
    description: "Needs containers.deploy (a deployment's watch) or stacks.deploy (a stack's) on the host.",
    action: "api.v1.watches.remove",
    mutation: true,
    params: watchParams,
    query: none,
    answers: [json(200, "Removed.", z.object({ ok: z.literal(true) }))],
    errors: [403, 404],
  }),
} as const;
