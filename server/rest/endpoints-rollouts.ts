import "server-only";
import { z } from "zod";
import { deploySpecSchema, imageReferenceSchema } from "../../lib/deploy/spec";
import { ROLLOUT_STATUSES } from "../rollouts/types";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { deployQuery, idParam, okBody, queryBoolean } from "./schemas";

// The rollouts' endpoints (issue 19): the fleet's rollouts and one
// deployment's timeline, one rollout with its steps, rollback to a chosen
// version by digest, cancel, and a deployment's update as a rollout. Spread
// into ENDPOINTS (server/rest/endpoints.ts), so they are in the OpenAPI
// document and on the reference page.

const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });
const none = z.strictObject({});
const timestamp = z.iso.datetime();

function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

const digest = z.string().nullable().describe("repo@sha256:… (null when the image came from no registry).");

export const rolloutBody = z
  .looseObject({
    id: z.string(),
    hostId: z.string(),
    hostName: z.string(),
    target: z.object({ kind: z.enum(["deployment", "stack"]), id: z.string(), name: z.string() }),
    services: z.array(z.string()),
    trigger: z.enum(["form", "api", "webhook", "watcher", "rollback"]),
    actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }),
    status: z.enum(ROLLOUT_STATUSES),
    imageRef: z.string().nullable(),
    digestBefore: digest,
    digestAfter: digest,
    digests: z.record(z.string(), z.object({ before: z.string().nullable(), after: z.string().nullable() })).describe("A stack's digests per service."),
    strategy: z.string().nullable().describe("start-first, or stop-first for a container publishing a fixed host port."),
    reason: z.string().nullable().describe("Why it failed (\"the new container exited with code 3\")."),
    approvedBy: z.string().nullable(),
    rollbackOfId: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    durationMs: z.number().nullable(),
    canRollback: z.boolean(),
  })
  .meta({ id: "Rollout" });

export const rolloutDetailBody = rolloutBody
  .extend({
    steps: z.array(z.object({ at: z.string(), phase: z.string(), message: z.string() })),
    specDiff: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })).describe("What changes; secret values masked."),
    verdict: z.looseObject({ allowed: z.boolean(), violations: z.array(z.unknown()), overridden: z.array(z.unknown()) }).nullable(),
    logTail: z.string().nullable().describe("The new container's last log lines, when it failed."),
    approval: z.looseObject({ id: z.string(), status: z.string() }).nullable(),
  })
  .meta({ id: "RolloutDetail" });

export const rolloutPageBody = z.object({ items: z.array(rolloutBody), nextCursor: z.string().nullable().describe("Pass as cursor for the next page; null at the end.") });

export const rolloutAcceptedBody = z
  .object({
    rolloutId: z.string(),
    status: z.enum(ROLLOUT_STATUSES).describe("queued, or awaitingApproval where an approver must decide first."),
    statusUrl: z.string().describe("GET this to follow the rollout."),
  })
  .meta({ id: "RolloutAccepted" });

export const deploymentUpdateBody = z
  .looseObject({
    rolloutId: z.string(),
    status: z.enum(ROLLOUT_STATUSES),
    deploymentId: z.string(),
    containerId: z.string().describe("The container serving now (the new one, or the old one after a failed rollout)."),
    name: z.string(),
    rolledBack: z.boolean().describe("The new container failed its health gate: the old one serves again."),
    message: z.string().nullable(),
    digestBefore: digest,
    digestAfter: digest,
    strategy: z.string().nullable(),
    statusUrl: z.string(),
  })
  .meta({ id: "DeploymentUpdate" });

const rolloutsQuery = z.strictObject({
  status: z
    .union([z.enum(ROLLOUT_STATUSES), z.array(z.enum(ROLLOUT_STATUSES)).max(9)])
    .optional()
    .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]))
    .describe("Only these statuses (repeat the parameter for several)."),
  hostId: idParam.optional(),
  deploymentId: idParam.optional(),
  stackId: idParam.optional(),
  cursor: idParam.optional().describe("The previous page's nextCursor."),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const timelineQuery = rolloutsQuery.omit({ deploymentId: true, stackId: true });

const rolloutParams = z.strictObject({ rolloutId: idParam.describe("The rollout's id.") });
const deploymentIdParams = z.strictObject({ deploymentId: idParam.describe("The deployment's id (GET /deployments).") });
const hostDeploymentParams = z.strictObject({ hostId: idParam.describe("The host's id (GET /hosts)."), deploymentId: idParam.describe("The deployment's id (GET /deployments).") });

const updateQuery = deployQuery.extend({
  wait: queryBoolean
    .default(true)
    .describe("true (default): answer when the rollout has finished (200), or at once when it waits for approval (202). false: answer 202 as soon as it is queued."),
});

const updateBody = z
  .strictObject({
    image: imageReferenceSchema()
      .optional()
      .describe("Another tag or digest of the deployment's repository (repo:tag or repo@sha256:…); absent: the saved reference, pulled again."),
    spec: deploySpecSchema.optional().describe("An edited spec (secret values sent back masked keep their saved value)."),
  })
  .describe("May be empty ({}): the saved spec with the newest image of its tag.");

export const ROLLOUT_ENDPOINTS = {
  listRollouts: endpoint({
    id: "listRollouts",
    method: "GET",
    path: "/rollouts",
    resource: "Deployments",
    summary: "Rollouts across the fleet, newest first, with cursor pages",
    description:
      "Deployments' rollouts on hosts where the token may read containers (containers.read), stacks' where it may read stacks (stacks.read). " +
      "Filter by status (running, queued, awaitingApproval, failed…), host, deployment or stack.",
    permission: null,
    action: "api.v1.rollouts.list",
    mutation: false,
    params: none,
    query: rolloutsQuery,
    answers: [json(200, "One page of rollouts.", rolloutPageBody)],
    errors: [400, 403],
    example: { query: "status=failed&limit=20" },
  }),
  getRollout: endpoint({
    id: "getRollout",
    method: "GET",
    path: "/rollouts/{rolloutId}",
    resource: "Deployments",
    summary: "One rollout: its steps, what it changes, the policy verdict, digests before and after, why it failed",
    permission: null,
    action: "api.v1.rollouts.get",
    mutation: false,
    params: rolloutParams,
    query: none,
    answers: [json(200, "The rollout.", rolloutDetailBody)],
    errors: [403, 404],
  }),
  rollbackRollout: endpoint({
    id: "rollbackRollout",
    method: "POST",
    path: "/rollouts/{rolloutId}/rollback",
    resource: "Deployments",
    summary: "Roll back to the version a succeeded rollout deployed, by its digest (not by tag)",
    description:
      "Queues a new rollout (trigger rollback) of that rollout's spec with the image pinned to its digest. It goes through the deploy policy and, " +
      "where the host requires it, waits for an approver. Needs containers.deploy (stacks.deploy for a stack) on the host.",
    permission: null,
    action: "api.v1.rollouts.rollback",
    mutation: true,
    params: rolloutParams,
    query: none,
    answers: [json(202, "Accepted: queued or awaiting approval.", rolloutAcceptedBody)],
    errors: [403, 404, 412],
  }),
  cancelRollout: endpoint({
    id: "cancelRollout",
    method: "POST",
    path: "/rollouts/{rolloutId}/cancel",
    resource: "Deployments",
    summary: "Cancel a rollout that hasn't started (queued or awaiting approval)",
    description: "Its requester, or someone holding deploys.approve on the host. A running or finished rollout answers 409.",
    permission: null,
    action: "api.v1.rollouts.cancel",
    mutation: true,
    params: rolloutParams,
    query: none,
    answers: [json(200, "Cancelled.", okBody)],
    errors: [403, 404, 409],
  }),
  listDeploymentRollouts: endpoint({
    id: "listDeploymentRollouts",
    method: "GET",
    path: "/deployments/{deploymentId}/rollouts",
    resource: "Deployments",
    summary: "A deployment's timeline: its rollouts, newest first",
    permission: "containers.read",
    action: "api.v1.deployments.rollouts",
    mutation: false,
    params: deploymentIdParams,
    query: timelineQuery,
    answers: [json(200, "One page of rollouts.", rolloutPageBody)],
    errors: [400, 403, 404],
  }),
  updateDeployment: endpoint({
    id: "updateDeployment",
    method: "POST",
    path: "/hosts/{hostId}/deployments/{deploymentId}/update",
    resource: "Deployments",
    summary: "Update a deployment as a health-gated rollout (the newest image of its tag, another tag, or an edited spec)",
    description:
      "Pulls first while the old container keeps serving, then starts the new one next to it and waits for it to be healthy before the old one goes " +
      "(stop, then start, for a container publishing a fixed host port). If it fails its health check or exits, the old container serves again and " +
      "the rollout is failed with the reason and the new container's last log lines. A refusal before anything is done (permission, policy, an image " +
      "that can't be pulled) is an error answer and nothing changes.",
    permission: "containers.deploy",
    action: "api.v1.deployments.update",
    mutation: true,
    params: hostDeploymentParams,
    query: updateQuery,
    body: updateBody,
    answers: [json(200, "The rollout finished (succeeded, or failed and rolled back).", deploymentUpdateBody), json(202, "Queued, or waiting for an approver.", deploymentUpdateBody)],
    errors: [400, 403, 404, 412, 503],
    example: { body: { image: "registry.example.com/team/app:v2" } },
  }),
} as const;
