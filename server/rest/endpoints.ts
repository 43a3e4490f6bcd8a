import "server-only";
import { z } from "zod";
import { deploySpecSchema } from "../../lib/deploy/spec";
import {
  auditEventsQuery,
  auditExportQuery,
  auditPageBody,
  CONTAINER_ACTIONS,
  containerInspectBody,
  containerParam,
  deployQuery,
  deployResultBody,
  deploymentBody,
  deploymentsBody,
  deploymentsQuery,
  fleetContainersBody,
  fleetContainersQuery,
  hostBody,
  hostContainersBody,
  idParam,
  imageBody,
  imageIdParam,
  logLineBody,
  logsQuery,
  okBody,
  pullBody,
  pullLineBody,
  removedBody,
  removeContainerQuery,
  removeImageQuery,
  statsBody,
} from "./schemas";
import { APPROVAL_ENDPOINTS } from "./endpoints-approvals";
import { STATS_ENDPOINTS } from "./endpoints-stats";
import { WATCH_ENDPOINTS } from "./endpoints-watches";
import { ROLLOUT_ENDPOINTS } from "./endpoints-rollouts";
import { WEBHOOK_ENDPOINTS } from "./endpoints-webhooks";
import { applyStackBody, downStackBody, rollbackStackBody, stackApplyLineBody, stackBody, stackDownBody, stacksBody, stacksQuery, stackVersionsBody } from "./stack-schemas";

// The one table of /api/v1 endpoints. Route handlers validate their path
// parameters, query strings and bodies with these schemas (server/rest/endpoint.ts),
// and the OpenAPI document and the reference page are built from it
// (server/rest/openapi.ts, reference.ts), so the three can't drift apart.
// A unit test checks that every route file is in the table and vice versa.

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface EndpointAnswer {
  status: number;
  description: string;
  /** Content type → schema of the whole body (for NDJSON: of one line). No schema: free text. */
  content: Partial<Record<"application/json" | "application/x-ndjson" | "text/plain" | "text/csv" | "text/html", z.ZodType | null>>;
}

export interface Endpoint<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  /** operationId. */
  id: string;
  method: HttpMethod;
  /** Under /api/v1, in OpenAPI form: /hosts/{hostId}. */
  path: string;
  /** Groups endpoints in the document and on the reference page. */
  resource: (typeof RESOURCES)[number];
  summary: string;
  description?: string;
  /** What the token (and its owner) must hold; null: any valid token; "public": no token needed. */
  permission: string | null | "public";
  /** The audit action of the REST-level record. */
  action: string;
  /** Audited whatever the outcome (reads are audited only when denied). */
  mutation: boolean;
  params: P;
  query: Q;
  body?: B;
  answers: EndpointAnswer[];
  /** Error statuses this endpoint can answer besides 401, 429 and 500 (which all can). */
  errors: number[];
  /** For the reference page's curl example. */
  example?: { query?: string; body?: unknown };
}

export const RESOURCES = ["Hosts", "Containers", "Images", "Deployments", "Stacks", "Audit", "Tokens", "Approvals", "Meta"] as const;

const none = z.strictObject({});
const hostParams = z.strictObject({ hostId: idParam.describe("The host's id (GET /hosts).") });
const containerParams = hostParams.extend({ containerId: containerParam.describe("The container's id, a unique prefix of it, or its name.") });
const actionParams = containerParams.extend({ action: z.enum(CONTAINER_ACTIONS).describe("What to do.") });
const deploymentParams = hostParams.extend({ deploymentId: idParam.describe("The deployment's id (GET /deployments).") });
const imageParams = hostParams.extend({ imageId: imageIdParam.describe("The image's id as GET …/images lists it (sha256:…).") });
const tokenParams = z.strictObject({ tokenId: idParam });
const stackParams = z.strictObject({ stackId: idParam.describe("The stack's id (GET /stacks).") });
const STACK_APPLY_STREAM =
  "Answers application/x-ndjson: progress lines ({type:\"progress\", phase, message, service, layer}) as each service is pulled, created, started and waited for, " +
  "then one result line ({type:\"result\", ok:true, stackId, version, result:\"applied\"|\"failed\", error} or {type:\"result\", ok:false, error}). " +
  "A refusal before anything is done (permission, a problem in the files naming its file, line and key, a service the deploy policy denies naming the service, rule and field) " +
  "is a plain JSON error instead, and nothing is created.";

const json = (status: number, description: string, schema: z.ZodType | null): EndpointAnswer => ({ status, description, content: { "application/json": schema } });

function endpoint<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined = undefined>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

export const ENDPOINTS = {
  ...ROLLOUT_ENDPOINTS,
  ...WEBHOOK_ENDPOINTS,
  listStacks: endpoint({
    id: "listStacks",
    method: "GET",
    path: "/stacks",
    resource: "Stacks",
    summary: "Stacks on the hosts this token may read, with each service's live state",
    permission: "stacks.read",
    action: "api.v1.stacks.list",
    mutation: false,
    params: none,
    query: stacksQuery,
    answers: [json(200, "One page of stacks, most recently changed first.", stacksBody)],
    errors: [400, 403],
    example: { query: "limit=20" },
  }),
  getStack: endpoint({
    id: "getStack",
    method: "GET",
    path: "/stacks/{stackId}",
    resource: "Stacks",
    summary: "One stack: its current files, services and their containers",
    permission: "stacks.read",
    action: "api.v1.stacks.get",
    mutation: false,
    params: stackParams,
    query: none,
    answers: [json(200, "The stack.", stackBody)],
    errors: [403, 404],
  }),
  listStackVersions: endpoint({
    id: "listStackVersions",
    method: "GET",
    path: "/stacks/{stackId}/versions",
    resource: "Stacks",
    summary: "A stack's versions, newest first (who applied them, when, and how it ended)",
    permission: "stacks.read",
    action: "api.v1.stacks.versions",
    mutation: false,
    params: stackParams,
    query: none,
    answers: [json(200, "The versions.", stackVersionsBody)],
    errors: [403, 404],
  }),
  applyStack: endpoint({
    id: "applyStack",
    method: "POST",
    path: "/hosts/{hostId}/stacks",
    resource: "Stacks",
    summary: "Apply a stack (create or update it) from its compose files, streaming per-service progress",
    description:
      "Converges the host like docker compose up -d: only services whose configuration changed are recreated; named volumes are kept. Every service is judged by the deploy policy first. " +
      STACK_APPLY_STREAM,
    permission: "stacks.deploy",
    action: "api.v1.stacks.apply",
    mutation: true,
    params: hostParams,
    query: none,
    body: applyStackBody,
    answers: [{ status: 200, description: "Progress lines, then the result line.", content: { "application/x-ndjson": stackApplyLineBody } }],
    errors: [400, 403, 404, 409, 412, 413, 503, 504],
    example: { body: { name: "web", source: { files: [{ path: "compose.yaml", content: "services:\n  web:\n    image: nginx:1.27\n" }] } } },
  }),
  downStack: endpoint({
    id: "downStack",
    method: "POST",
    path: "/stacks/{stackId}/down",
    resource: "Stacks",
    summary: "Take a stack down: its containers and networks (and, with volumes:true, its named volumes)",
    permission: "stacks.delete",
    action: "api.v1.stacks.down",
    mutation: true,
    params: stackParams,
    query: none,
    body: downStackBody,
    answers: [json(200, "How many containers were removed.", stackDownBody)],
    errors: [400, 403, 404, 503, 504],
    example: { body: { volumes: false } },
  }),
  rollbackStack: endpoint({
    id: "rollbackStack",
    method: "POST",
    path: "/stacks/{stackId}/rollback",
    resource: "Stacks",
    summary: "Roll a stack back: apply an earlier version's files again, as a new version",
    description: STACK_APPLY_STREAM,
    permission: "stacks.deploy",
    action: "api.v1.stacks.rollback",
    mutation: true,
    params: stackParams,
    query: none,
    body: rollbackStackBody,
    answers: [{ status: 200, description: "Progress lines, then the result line.", content: { "application/x-ndjson": stackApplyLineBody } }],
    errors: [400, 403, 404, 409, 412, 503, 504],
    example: { body: { version: 1 } },
  }),

  listHosts: endpoint({
    id: "listHosts",
    method: "GET",
    path: "/hosts",
    resource: "Hosts",
    summary: "List the hosts this token may read",
    description: "The same answer as the console's host list: connection status, agent, container counts.",
    permission: "hosts.read",
    action: "api.v1.hosts.list",
    mutation: false,
    params: none,
    query: none,
    answers: [json(200, "The hosts.", z.array(hostBody))],
    errors: [403],
  }),
  getHost: endpoint({
    id: "getHost",
    method: "GET",
    path: "/hosts/{hostId}",
    resource: "Hosts",
    summary: "One host",
    permission: "hosts.read",
    action: "api.v1.hosts.get",
    mutation: false,
    params: hostParams,
    query: none,
    answers: [json(200, "The host.", hostBody)],
    errors: [403, 404],
  }),

  listFleetContainers: endpoint({
    id: "listFleetContainers",
    method: "GET",
    path: "/containers",
    resource: "Containers",
    summary: "Containers across every host the token may read, filtered, sorted and paged",
    permission: "containers.read",
    action: "api.v1.containers.all",
    mutation: false,
    params: none,
    query: fleetContainersQuery,
    answers: [json(200, "One page of containers.", fleetContainersBody)],
    errors: [400, 403],
    example: { query: "state=running&pageSize=20" },
  }),
  listContainers: endpoint({
    id: "listContainers",
    method: "GET",
    path: "/hosts/{hostId}/containers",
    resource: "Containers",
    summary: "A host's containers, live",
    description: "When the host can't be reached the answer is the last known list with stale: true and the reason.",
    permission: "containers.read",
    action: "api.v1.hosts.containers.list",
    mutation: false,
    params: hostParams,
    query: none,
    answers: [json(200, "The containers.", hostContainersBody)],
    errors: [403, 404],
  }),
  deployContainer: endpoint({
    id: "deployContainer",
    method: "POST",
    path: "/hosts/{hostId}/containers",
    resource: "Containers",
    summary: "Deploy a container from a spec",
    description:
      "Checks the deploy policy, pulls the image (per pullPolicy), creates and starts the container and saves the deployment, exactly as the console's deploy form. " +
      "A spec the policy forbids is refused with 403 and error.violations naming each rule. Secret environment values are sealed and never shown again. " +
      "Unknown fields are refused at any depth (400 naming the path, e.g. env[0].Secret: unknown field), never dropped.",
    permission: "containers.deploy",
    action: "api.v1.containers.deploy",
    mutation: true,
    params: hostParams,
    query: deployQuery,
    body: deploySpecSchema.strict(),
    answers: [json(201, "Deployed and running.", deployResultBody)],
    errors: [400, 403, 404, 409, 413, 503, 504],
    example: { body: { image: "registry.example.com/team/web:1.4", name: "web", ports: [{ hostPort: 8080, containerPort: 80 }], memoryBytes: 134217728 } },
  }),
  inspectContainer: endpoint({
    id: "inspectContainer",
    method: "GET",
    path: "/hosts/{hostId}/containers/{containerId}",
    resource: "Containers",
    summary: "A container's details (Docker's inspect document, plus its deployment)",
    permission: "containers.read",
    action: "api.v1.containers.inspect",
    mutation: false,
    params: containerParams,
    query: none,
    answers: [json(200, "The container.", containerInspectBody)],
    errors: [403, 404, 503],
  }),
  removeContainer: endpoint({
    id: "removeContainer",
    method: "DELETE",
    path: "/hosts/{hostId}/containers/{containerId}",
    resource: "Containers",
    summary: "Remove a container (stopping it first if it runs)",
    permission: "containers.delete",
    action: "api.v1.containers.remove",
    mutation: true,
    params: containerParams,
    query: removeContainerQuery,
    answers: [json(200, "Removed.", okBody)],
    errors: [403, 404, 503],
  }),
  containerAction: endpoint({
    id: "containerAction",
    method: "POST",
    path: "/hosts/{hostId}/containers/{containerId}/{action}",
    resource: "Containers",
    summary: "Start, stop, restart, pause, unpause or kill a container",
    permission: "containers.control",
    action: "api.v1.containers.action",
    mutation: true,
    params: actionParams,
    query: none,
    answers: [json(200, "Done.", okBody)],
    errors: [403, 404, 409, 503],
  }),
  containerLogs: endpoint({
    id: "containerLogs",
    method: "GET",
    path: "/hosts/{hostId}/containers/{containerId}/logs",
    resource: "Containers",
    summary: "A container's log: the last lines, optionally within a time range",
    permission: "containers.logs",
    action: "api.v1.containers.logs",
    mutation: false,
    params: containerParams,
    query: logsQuery,
    answers: [{ status: 200, description: "format=text: the lines; format=ndjson: one LogLine object a line.", content: { "text/plain": null, "application/x-ndjson": logLineBody } }],
    errors: [400, 403, 404, 503],
    example: { query: "tail=100&format=ndjson" },
  }),
  containerStats: endpoint({
    id: "containerStats",
    method: "GET",
    path: "/hosts/{hostId}/containers/{containerId}/stats",
    resource: "Containers",
    summary: "One sample of a container's CPU, memory, network and block I/O",
    permission: "containers.read",
    action: "api.v1.containers.stats",
    mutation: false,
    params: containerParams,
    query: none,
    answers: [json(200, "The sample.", statsBody)],
    description: "503 when the host gives no sample.",
    errors: [403, 404, 503],
  }),

  listImages: endpoint({
    id: "listImages",
    method: "GET",
    path: "/hosts/{hostId}/images",
    resource: "Images",
    summary: "A host's images, with the containers using each",
    permission: "images.read",
    action: "api.v1.images.list",
    mutation: false,
    params: hostParams,
    query: none,
    answers: [json(200, "The images.", z.array(imageBody))],
    errors: [403, 404, 503],
  }),
  pullImage: endpoint({
    id: "pullImage",
    method: "POST",
    path: "/hosts/{hostId}/images/pull",
    resource: "Images",
    summary: "Pull an image, streaming per-layer progress",
    description:
      "Answers application/x-ndjson: progress lines ({type:\"progress\", phase, message, layer}) as the host reports them, then one result line " +
      "({type:\"result\", ok, pulled} or {type:\"result\", ok:false, error}). A refusal before the pull starts (permission, bad reference, host down) is a plain JSON error instead.",
    permission: "images.pull",
    action: "api.v1.images.pull",
    mutation: true,
    params: hostParams,
    query: none,
    body: pullBody,
    answers: [{ status: 200, description: "Progress lines, then the result line.", content: { "application/x-ndjson": pullLineBody } }],
    errors: [400, 403, 404, 413, 503, 504],
    example: { body: { reference: "registry.example.com/team/web:1.4" } },
  }),
  removeImage: endpoint({
    id: "removeImage",
    method: "DELETE",
    path: "/hosts/{hostId}/images/{imageId}",
    resource: "Images",
    summary: "Remove an image",
    description: "Refused with 409 while a container uses it (force=true removes it from under stopped containers).",
    permission: "images.delete",
    action: "api.v1.images.remove",
    mutation: true,
    params: imageParams,
    query: removeImageQuery,
    answers: [json(200, "Removed.", removedBody)],
    errors: [400, 403, 404, 409, 503],
  }),

  listDeployments: endpoint({
    id: "listDeployments",
    method: "GET",
    path: "/deployments",
    resource: "Deployments",
    summary: "Saved deployments on the hosts this token may read, most recently changed first",
    description: "hostId, offset and limit are applied in the database; total counts every match.",
    permission: "containers.read",
    action: "api.v1.deployments.list",
    mutation: false,
    params: none,
    query: deploymentsQuery,
    answers: [json(200, "One page of deployments.", deploymentsBody)],
    errors: [400, 403],
    example: { query: "limit=20" },
  }),
  getDeployment: endpoint({
    id: "getDeployment",
    method: "GET",
    path: "/hosts/{hostId}/deployments/{deploymentId}",
    resource: "Deployments",
    summary: "One deployment with its saved spec (secret values masked)",
    permission: "containers.read",
    action: "api.v1.deployments.get",
    mutation: false,
    params: deploymentParams,
    query: none,
    answers: [json(200, "The deployment.", deploymentBody)],
    errors: [403, 404],
  }),

  queryAudit: endpoint({
    id: "queryAudit",
    method: "GET",
    path: "/audit/events",
    resource: "Audit",
    summary: "Search the audit log, newest first, with cursor pages",
    permission: "audit.read",
    action: "api.v1.audit.events",
    mutation: false,
    params: none,
    query: auditEventsQuery,
    answers: [json(200, "One page of events.", auditPageBody)],
    errors: [400, 403],
    example: { query: "action=api.v1&outcome=denied&limit=20" },
  }),
  exportAudit: endpoint({
    id: "exportAudit",
    method: "GET",
    path: "/audit/export",
    resource: "Audit",
    summary: "Download the matching events, oldest first, as NDJSON or CSV",
    description: "As the console's export: each export is itself audited; CSV cells that a spreadsheet would run as a formula are prefixed with '.",
    permission: "audit.export",
    action: "api.v1.audit.export",
    mutation: true,
    params: none,
    query: auditExportQuery,
    answers: [{ status: 200, description: "The events (an attachment).", content: { "application/x-ndjson": z.looseObject({ id: z.string(), action: z.string(), hash: z.string() }), "text/csv": null } }],
    errors: [400, 403],
    example: { query: "format=csv&from=2026-01-01T00:00:00Z" },
  }),

  listTokens: endpoint({
    id: "listTokens",
    method: "GET",
    path: "/tokens",
    resource: "Tokens",
    summary: "Not through a token: API tokens are managed in the console",
    description: "tokens.manage is never granted to an API token (a token minting tokens could shed its own limits), so this always answers 403, audited. Use Settings → API tokens.",
    permission: "tokens.manage",
    action: "api.v1.tokens.list",
    mutation: false,
    params: none,
    query: none,
    answers: [],
    errors: [403],
  }),
  createToken: endpoint({
    id: "createToken",
    method: "POST",
    path: "/tokens",
    resource: "Tokens",
    summary: "Not through a token: API tokens are managed in the console",
    description: "Always 403 (see listTokens), audited.",
    permission: "tokens.manage",
    action: "api.v1.tokens.create",
    mutation: true,
    params: none,
    query: none,
    answers: [],
    errors: [403],
  }),
  revokeToken: endpoint({
    id: "revokeToken",
    method: "DELETE",
    path: "/tokens/{tokenId}",
    resource: "Tokens",
    summary: "Not through a token: API tokens are managed in the console",
    description: "Always 403 (see listTokens), audited.",
    permission: "tokens.manage",
    action: "api.v1.tokens.revoke",
    mutation: true,
    params: tokenParams,
    query: none,
    answers: [],
    errors: [403],
  }),

  openapi: endpoint({
    id: "getOpenApiDocument",
    method: "GET",
    path: "/openapi.json",
    resource: "Meta",
    summary: "This API's OpenAPI 3.1 document (public: no token needed)",
    permission: "public",
    action: "api.v1.openapi",
    mutation: false,
    params: none,
    query: none,
    answers: [json(200, "The document.", null)],
    errors: [],
  }),
  reference: endpoint({
    id: "getReference",
    method: "GET",
    path: "/docs",
    resource: "Meta",
    summary: "The API reference as a web page (public: no token needed)",
    permission: "public",
    action: "api.v1.docs",
    mutation: false,
    params: none,
    query: none,
    answers: [{ status: 200, description: "HTML.", content: { "text/html": null } }],
    errors: [],
  }),
  ...APPROVAL_ENDPOINTS,
  ...WATCH_ENDPOINTS,
  ...STATS_ENDPOINTS,
} as const;

export type EndpointId = keyof typeof ENDPOINTS;

export const ENDPOINT_LIST: Endpoint[] = Object.values(ENDPOINTS) as unknown as Endpoint[];

/** The methods a path has, for 405's Allow header. */
export function methodsOf(path: string): HttpMethod[] {
  return ENDPOINT_LIST.filter((e) => e.path === path).map((e) => e.method);
}
