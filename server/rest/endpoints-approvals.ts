import "server-only";
import { z } from "zod";
import type { Endpoint, EndpointAnswer } from "./endpoints";
import { idParam, queryBoolean } from "./schemas";

// The approvals endpoints (issue 19 item 4), spread into the one table in
// endpoints.ts: the inbox, decisions, and which hosts and groups require
// approval. Route files: app/api/v1/approvals/**, app/api/v1/approval-rules/**.

const timestamp = z.iso.datetime();
const STATUSES = ["waiting", "approved", "rejected", "expired", "cancelled"] as const;
const none = z.strictObject({});
const approvalParams = z.strictObject({ approvalId: idParam.describe("The approval request's id (GET /approvals).") });
const ruleParams = z.strictObject({
  scope: z.enum(["host", "hostGroup"]).describe("Whether the rule is on one host or on a host group."),
  scopeId: idParam.describe("The host's id (GET /hosts) or the host group's id."),
});

const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });

function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

// ---------------------------------------------------------------- schemas

/** status=waiting&status=approved, or status=waiting,approved. */
const statusList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(",")).filter(Boolean))
  .pipe(z.array(z.enum(STATUSES)).max(5));

export const approvalsQuery = z.strictObject({
  status: statusList.optional().describe("Only these statuses (repeat the key or separate with commas): waiting, approved, rejected, expired, cancelled."),
  hostId: idParam.optional().describe("Only requests on this host."),
  decidable: queryBoolean.optional().describe("true: only requests this token's owner could approve or reject now."),
  mine: queryBoolean.optional().describe("true: only requests this token's owner asked for."),
  cursor: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional().describe("nextCursor of the previous page."),
  limit: z.coerce.number().int().min(1).max(100).default(50).describe("Page size (1–100)."),
});

const digestPair = z.object({ before: z.string().nullable(), after: z.string().nullable() });
const approvalSummaryShape = {
  id: z.string(),
  status: z.enum(STATUSES),
  requestedLabel: z.string().nullable().describe("Who asked (a person, or the webhook or watch acting for its creator)."),
  decidedLabel: z.string().nullable().describe("Who approved, rejected or cancelled it."),
  decidedAt: timestamp.nullable(),
  comment: z.string().nullable(),
  runAt: timestamp.nullable().describe("The time an approved rollout may start (null: at once)."),
  expiresAt: timestamp,
};

export const rolloutDetailBody = z
  .looseObject({
    id: z.string(),
    hostId: z.string(),
    hostName: z.string(),
    target: z.object({ kind: z.enum(["deployment", "stack"]), id: z.string(), name: z.string() }),
    services: z.array(z.string()),
    trigger: z.enum(["form", "api", "webhook", "watcher", "rollback"]),
    actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }),
    status: z.enum(["awaitingApproval", "queued", "running", "succeeded", "failed", "superseded", "rejected", "expired", "cancelled"]),
    imageRef: z.string().nullable(),
    digestBefore: z.string().nullable().describe("The image digest running before (repo@sha256:…)."),
    digestAfter: z.string().nullable(),
    digests: z.record(z.string(), digestPair).describe("A stack's digests per service."),
    strategy: z.string().nullable(),
    reason: z.string().nullable(),
    approvedBy: z.string().nullable(),
    rollbackOfId: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    durationMs: z.number().nullable(),
    canRollback: z.boolean(),
    steps: z.array(z.object({ at: z.string(), phase: z.string(), message: z.string() })),
    specDiff: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })).describe("What the rollout changes in the spec."),
    verdict: z.object({ allowed: z.boolean(), violations: z.array(z.unknown()), overridden: z.array(z.unknown()) }).nullable().describe("The deploy policy's verdict when it was requested."),
    logTail: z.string().nullable(),
    approval: z.object(approvalSummaryShape).nullable(),
  })
  .meta({ id: "RolloutDetail" });

export const approvalBody = z
  .object({
    ...approvalSummaryShape,
    rolloutId: z.string(),
    requestedById: z.string().nullable(),
    createdAt: timestamp,
    canDecide: z.boolean().describe("Whether this token's owner may approve or reject it now (holds deploys.approve on the host, isn't the requester, still waiting)."),
    rollout: rolloutDetailBody,
  })
  .meta({ id: "Approval" });

export const approvalsBody = z.object({ items: z.array(approvalBody), nextCursor: z.string().nullable().describe("Pass as cursor= for the next page; null at the end.") });

export const approveBody = z.strictObject({
  comment: z.string().max(2000).default("").describe("Why (optional)."),
  runAt: z.iso.datetime({ offset: true }).nullable().default(null).describe("Run at this time instead of at once (RFC 3339, at most 30 days ahead)."),
});
export const rejectBody = z.strictObject({ comment: z.string().trim().min(1, "say why you reject it").max(2000).describe("Why (required).") });
export const cancelBody = z.strictObject({ comment: z.string().max(2000).default("").describe("Why (optional).") });

export const approvalRuleBody = z
  .object({
    id: z.string(),
    scope: z.object({ kind: z.enum(["host", "hostGroup"]), id: z.string(), name: z.string() }),
    expiryHours: z.number().int(),
    createdAt: timestamp,
  })
  .meta({ id: "ApprovalRule" });

export const putRuleBody = z.strictObject({
  expiryHours: z.number().int().min(1).max(24 * 30).default(72).describe("How long a request waits for a decision before it expires (1–720 hours)."),
});

// ---------------------------------------------------------------- endpoints

const DECIDE =
  "Only someone holding deploys.approve on the host who is not the requester (nor the creator of the webhook or watch that asked) may decide; " +
  "a request that is no longer waiting, or has expired, is refused with 409 naming why. Of two approvers deciding at once exactly one succeeds. ";

export const APPROVAL_ENDPOINTS = {
  listApprovals: endpoint({
    id: "listApprovals",
    method: "GET",
    path: "/approvals",
    resource: "Approvals",
    summary: "Approval requests on the hosts this token may read, waiting ones first",
    description: "Each group (waiting, then the rest) newest first, with the rollout's full diff: image digest before/after, spec changes and the policy verdict.",
    permission: "hosts.read",
    action: "api.v1.approvals.list",
    mutation: false,
    params: none,
    query: approvalsQuery,
    answers: [json(200, "One page of approval requests.", approvalsBody)],
    errors: [400, 403],
    example: { query: "status=waiting&limit=20" },
  }),
  getApproval: endpoint({
    id: "getApproval",
    method: "GET",
    path: "/approvals/{approvalId}",
    resource: "Approvals",
    summary: "One approval request with its rollout's full diff",
    permission: "hosts.read",
    action: "api.v1.approvals.get",
    mutation: false,
    params: approvalParams,
    query: none,
    answers: [json(200, "The approval request.", approvalBody)],
    errors: [403, 404],
  }),
  approveApproval: endpoint({
    id: "approveApproval",
    method: "POST",
    path: "/approvals/{approvalId}/approve",
    resource: "Approvals",
    summary: "Approve a waiting request: its rollout runs at once, or at runAt",
    description: DECIDE + "The approved rollout is queued and runs with the requester's rights; GET /approvals/{approvalId} follows it.",
    permission: "deploys.approve",
    action: "api.v1.approvals.approve",
    mutation: true,
    params: approvalParams,
    query: none,
    body: approveBody,
    answers: [json(200, "The request, approved.", approvalBody)],
    errors: [400, 403, 404, 409],
    example: { body: { comment: "looks good", runAt: null } },
  }),
  rejectApproval: endpoint({
    id: "rejectApproval",
    method: "POST",
    path: "/approvals/{approvalId}/reject",
    resource: "Approvals",
    summary: "Reject a waiting request (a comment is required); nothing touches the host",
    description: DECIDE,
    permission: "deploys.approve",
    action: "api.v1.approvals.reject",
    mutation: true,
    params: approvalParams,
    query: none,
    body: rejectBody,
    answers: [json(200, "The request, rejected.", approvalBody)],
    errors: [400, 403, 404, 409],
    example: { body: { comment: "not during the release freeze" } },
  }),
  cancelApproval: endpoint({
    id: "cancelApproval",
    method: "POST",
    path: "/approvals/{approvalId}/cancel",
    resource: "Approvals",
    summary: "Withdraw your own waiting request; nothing touches the host",
    permission: null,
    action: "api.v1.approvals.cancel",
    mutation: true,
    params: approvalParams,
    query: none,
    body: cancelBody,
    answers: [json(200, "The request, cancelled.", approvalBody)],
    errors: [400, 403, 404, 409],
    example: { body: { comment: "wrong tag" } },
  }),
  listApprovalRules: endpoint({
    id: "listApprovalRules",
    method: "GET",
    path: "/approval-rules",
    resource: "Approvals",
    summary: "Hosts and host groups whose deploys, updates and rollbacks need approval (those this token may read)",
    permission: "hosts.read",
    action: "api.v1.approvalRules.list",
    mutation: false,
    params: none,
    query: none,
    answers: [json(200, "The rules.", z.array(approvalRuleBody))],
    errors: [403],
  }),
  putApprovalRule: endpoint({
    id: "putApprovalRule",
    method: "PUT",
    path: "/approval-rules/{scope}/{scopeId}",
    resource: "Approvals",
    summary: "Require approval on a host or host group (or change how long requests wait)",
    description:
      "From now on, deploys, updates and rollbacks there by anyone without deploys.approve — and webhook or watch rollouts not made pre-approved by an approver — wait for an approver. " +
      "Where a host and its group both have a rule, the shorter expiry applies.",
    permission: "hosts.manage",
    action: "api.v1.approvalRules.put",
    mutation: true,
    params: ruleParams,
    query: none,
    body: putRuleBody,
    answers: [json(200, "The rule.", approvalRuleBody)],
    errors: [400, 403],
    example: { body: { expiryHours: 72 } },
  }),
  deleteApprovalRule: endpoint({
    id: "deleteApprovalRule",
    method: "DELETE",
    path: "/approval-rules/{scope}/{scopeId}",
    resource: "Approvals",
    summary: "Stop requiring approval on a host or host group (requests already waiting stay waiting)",
    permission: "hosts.manage",
    action: "api.v1.approvalRules.delete",
    mutation: true,
    params: ruleParams,
    query: none,
    answers: [json(200, "Removed.", z.object({ ok: z.literal(true) }))],
    errors: [403, 404],
  }),
} as const;
