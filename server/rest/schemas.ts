import "server-only";
import { z } from "zod";
import { imageReferenceSchema } from "../../lib/deploy/spec";

// Zod schemas of the REST API's path parameters, query strings and answers.
// Request schemas are what the route handlers validate with; answers are
// described (loosely: extra fields are allowed) for the OpenAPI document.
// Query values arrive as strings, so numbers are coerced and booleans spelled.

// ---------------------------------------------------------------- path parameters

/** Database ids (cuid) and other plain ids: letters, digits, _ and -. */
export const idParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not an id");
/** A container's id (or a prefix of it) or its name. Never starts with a dot, so `..` is no container. */
export const containerParam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "not a container id or name");
/** An image id as the image list gives it (sha256:<hex>) or a prefix of its hex. */
export const imageIdParam = z.string().regex(/^(sha256:)?[a-f0-9]{6,64}$/, "not an image id (sha256:<hex>)");

export const CONTAINER_ACTIONS = ["start", "stop", "restart", "pause", "unpause", "kill"] as const;

// ---------------------------------------------------------------- query strings

/** A boolean in a query string: true/false (or 1/0). */
export const queryBoolean = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");

const dateTime = z.iso.datetime({ offset: true });

export const logsQuery = z.strictObject({
  tail: z.coerce.number().int().min(1).max(10_000).default(500).describe("How many of the last lines (1–10000)."),
  since: z.coerce.number().int().min(0).optional().describe("Only lines at or after this Unix time (seconds)."),
  until: z.coerce.number().int().min(0).optional().describe("Only lines before this Unix time (seconds)."),
  timestamps: queryBoolean.default(false).describe("Prefix each line with its RFC 3339 timestamp."),
  format: z.enum(["text", "ndjson"]).default("text").describe("text: the lines as plain text; ndjson: one {stream,text} object a line."),
});

export const deployQuery = z.strictObject({
  overridePolicy: queryBoolean
    .default(false)
    .describe("Deploy although the deploy policy forbids it. Only for tokens whose owner holds hosts.manage on the host; the overridden rules are audited."),
});

export const removeContainerQuery = z.strictObject({});
export const removeImageQuery = z.strictObject({
  force: queryBoolean.default(false).describe("Remove the image even if stopped containers use it."),
});

export const fleetContainersQuery = z.strictObject({
  hostId: z.union([idParam, z.array(idParam).max(500)]).optional().describe("Only these hosts (repeat the parameter for several)."),
  state: z.enum(["running", "exited", "created", "paused", "restarting", "dead"]).optional(),
  name: z.string().max(200).optional().describe("Substring of the name (case-insensitive)."),
  image: z.string().max(512).optional().describe("Substring of the image."),
  label: z.string().max(512).optional().describe("key or key=value."),
  sort: z.enum(["name", "image", "state", "created", "host"]).default("name"),
  order: z.enum(["asc", "desc"]).default("asc"),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
});

export const deploymentsQuery = z.strictObject({
  hostId: idParam.optional().describe("Only this host's deployments."),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).describe("Skip this many (newest first); pass the answer's nextOffset."),
});

const auditFilterFields = {
  actorId: z.string().max(64).optional().describe("A user's or a token's id."),
  actor: z.string().max(200).optional().describe("Substring of the actor's label (e-mail, or token name and owner)."),
  action: z.string().max(200).optional().describe("Action prefix, e.g. containers.deploy or api.v1."),
  outcome: z.enum(["success", "denied", "error"]).optional(),
  hostId: z.string().max(64).optional(),
  from: dateTime.optional().describe("At or after this time (RFC 3339)."),
  to: dateTime.optional().describe("At or before this time (RFC 3339)."),
  q: z.string().max(200).optional().describe("Full-text search over action, actor, target, error, IP and parameters."),
};

export const auditEventsQuery = z.strictObject({
  ...auditFilterFields,
  before: z.string().regex(/^\d+$/).optional().describe("Events older than this id: pass the answer's olderCursor for the next page."),
  after: z.string().regex(/^\d+$/).optional().describe("Events newer than this id: pass the answer's newerCursor to page back."),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const auditExportQuery = z.strictObject({
  ...auditFilterFields,
  format: z.enum(["csv", "ndjson"]).default("ndjson"),
});

// ---------------------------------------------------------------- bodies

/** The same rules as images.pull's reference (Docker's reference grammar, the agent's parser). */
export const imageReference = imageReferenceSchema();

export const pullBody = z.strictObject({
  reference: imageReference.describe("What to pull, e.g. registry.example.com/team/app:1.2 or …@sha256:…"),
  registryId: z.string().min(1).max(64).optional().describe("A saved registry whose credentials to use."),
});

// ---------------------------------------------------------------- answers

const timestamp = z.iso.datetime();

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().describe("BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, CONFLICT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, INTERNAL, UNAVAILABLE, TIMEOUT…"),
      message: z.string(),
      requestId: z.string().nullable().describe("Also in the x-request-id header and in the audit record."),
      violations: z
        .array(z.object({ rule: z.string(), label: z.string(), field: z.string(), message: z.string() }))
        .optional()
        .describe("Deploy policy denials: each broken rule, with the spec field it concerns."),
    }),
  })
  .meta({ id: "Error" });

export const hostBody = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    address: z.string(),
    port: z.number(),
    transport: z.enum(["ssh", "local"]),
    hostGroupId: z.string().nullable(),
    hostGroupName: z.string().nullable(),
    labels: z.array(z.string()),
    agentVersion: z.string().nullable(),
    status: z.string(),
    statusMessage: z.string().nullable(),
    lastSeenAt: timestamp.nullable(),
    stale: z.boolean(),
    containerCount: z.number().nullable(),
    runningCount: z.number().nullable(),
  })
  .meta({ id: "Host" });

export const containerSummaryBody = z
  .looseObject({
    Id: z.string(),
    Names: z.array(z.string()),
    Image: z.string(),
    State: z.string(),
    Status: z.string(),
    Created: z.number(),
    Labels: z.record(z.string(), z.string()).nullable().optional(),
  })
  .meta({ id: "ContainerSummary" });

export const hostContainersBody = z.object({
  containers: z.array(containerSummaryBody),
  stale: z.boolean().describe("true: the host can't be reached and this is the last known list."),
  at: timestamp.nullable(),
  message: z.string().nullable(),
});

export const fleetContainersBody = z.looseObject({
  items: z.array(
    z.looseObject({
      hostId: z.string(),
      hostName: z.string(),
      id: z.string(),
      name: z.string(),
      image: z.string(),
      state: z.string(),
      status: z.string(),
      created: z.number(),
      stale: z.boolean(),
      updateAvailable: z.boolean().describe("The tag the container was started from now points at another digest in its registry (see Registry watching)."),
    }),
  ),
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
});

export const containerInspectBody = z
  .looseObject({
    Id: z.string(),
    Name: z.string(),
    Image: z.string(),
    State: z.looseObject({ Status: z.string(), Running: z.boolean() }),
    Config: z.looseObject({ Image: z.string().optional(), Env: z.array(z.string()).nullable().optional() }).describe("Secret environment values of a deployment are masked."),
    deployment: z.object({ id: z.string(), name: z.string(), status: z.string(), message: z.string().nullable() }).nullable(),
    updateAvailable: z.boolean().describe("A running container whose tag now points at another digest in its registry."),
  })
  .meta({ id: "ContainerInspect" });

export const policyViolationBody = z.object({ rule: z.string(), label: z.string(), field: z.string(), message: z.string() });

export const deployResultBody = z
  .object({
    deploymentId: z.string(),
    containerId: z.string(),
    name: z.string(),
    overridden: z.array(policyViolationBody).describe("Policy rules overridden (overridePolicy=true), as audited."),
  })
  .meta({ id: "DeployResult" });

export const okBody = z.object({ ok: z.literal(true) });

export const logLineBody = z.object({ stream: z.enum(["stdout", "stderr"]), text: z.string() }).meta({ id: "LogLine" });

export const statsBody = z
  .looseObject({
    at: z.string(),
    cpuPercent: z.number(),
    memoryBytes: z.number(),
    memoryLimitBytes: z.number(),
    netRxBytes: z.number(),
    netTxBytes: z.number(),
  })
  .meta({ id: "ContainerStats" });

export const imageBody = z
  .object({
    id: z.string(),
    tags: z.array(z.string()),
    digests: z.array(z.string()),
    created: z.number(),
    size: z.number(),
    containers: z.array(z.object({ id: z.string(), name: z.string(), state: z.string() })),
  })
  .meta({ id: "Image" });

export const pullLineBody = z
  .discriminatedUnion("type", [
    z.object({
      type: z.literal("progress"),
      phase: z.string(),
      message: z.string(),
      layer: z.object({ id: z.string(), status: z.string(), current: z.number().optional(), total: z.number().optional() }).optional(),
    }),
    z.object({
      type: z.literal("result"),
      ok: z.boolean(),
      pulled: z.string().optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ])
  .meta({ id: "PullLine" });

export const removedBody = z.object({ removed: z.literal(true) });

export const deploymentSummaryBody = z
  .object({
    id: z.string(),
    hostId: z.string(),
    hostName: z.string(),
    name: z.string(),
    containerId: z.string().nullable(),
    status: z.string(),
    message: z.string().nullable(),
    updatedAt: timestamp,
  })
  .meta({ id: "DeploymentSummary" });

export const deploymentsBody = z.object({
  items: z.array(deploymentSummaryBody),
  total: z.number().int().describe("How many match (the host filter included), across all pages."),
  nextOffset: z.number().int().nullable(),
});

export const deploymentBody = z
  .looseObject({
    id: z.string(),
    hostId: z.string(),
    name: z.string(),
    spec: z.looseObject({ image: z.string() }).describe("The saved spec; secret environment values are masked."),
    containerId: z.string().nullable(),
    imageId: z.string().nullable(),
    status: z.string(),
    message: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Deployment" });

export const auditEventBody = z
  .looseObject({
    id: z.string(),
    createdAt: timestamp,
    actorType: z.string(),
    actorId: z.string().nullable(),
    actorLabel: z.string().nullable(),
    sourceIp: z.string().nullable(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    hostId: z.string().nullable(),
    params: z.unknown(),
    outcome: z.enum(["success", "denied", "error"]),
    errorMessage: z.string().nullable(),
    requestId: z.string().nullable(),
    hash: z.string(),
  })
  .meta({ id: "AuditEvent" });

export const auditPageBody = z.object({
  events: z.array(auditEventBody),
  olderCursor: z.string().nullable().describe("Pass as before= for the next (older) page; null at the end."),
  newerCursor: z.string().nullable().describe("Pass as after= to page back towards the newest."),
});
