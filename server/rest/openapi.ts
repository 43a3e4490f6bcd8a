import "server-only";
import { z } from "zod";
import { ENDPOINT_LIST, RESOURCES, type Endpoint } from "./endpoints";
import { TOKEN_RATE_DOC } from "./limits";
import { errorBody } from "./schemas";

// The OpenAPI 3.1 document of /api/v1, generated from the endpoint table's
// zod schemas (the ones the handlers validate with). Pure: no database, no
// request; the same document for everyone, so it is served without a token.

type JsonSchema = Record<string, unknown>;

const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: "BadRequest", description: "Malformed JSON, or input that doesn't fit the schema (an unknown field at any depth of a body included); the message names the field, e.g. env[0].Secret: unknown field." },
  401: { name: "Unauthorized", description: "No bearer token, or one that is unknown, expired, revoked or whose owner is disabled." },
  403: { name: "Forbidden", description: "The token (or its owner now) lacks the permission on this host, or the deploy policy refuses the spec (error.violations)." },
  404: { name: "NotFound", description: "No such resource, or a path parameter that isn't a valid id." },
  412: { name: "PreconditionFailed", description: "The host refused the gateway's SSH credentials, or isn't a Linux host the agent can run on; or what a stack needs is missing (a Berth secret, an external network or volume)." },
  409: { name: "Conflict", description: "The resource's state doesn't allow it (a deployment of that name exists, an image in use…)." },
  413: { name: "PayloadTooLarge", description: "The request body is larger than the gateway accepts (BERTH_MAX_BODY_BYTES)." },
  429: { name: "TooManyRequests", description: `More than ${TOKEN_RATE_DOC}; retry after Retry-After seconds.` },
  500: { name: "Internal", description: "Unexpected: the message carries the request id to quote." },
  503: { name: "Unavailable", description: "The host can't be reached over SSH, or its agent isn't running." },
  504: { name: "Timeout", description: "The host didn't answer in time." },
};

/**
 * Renders a schema, moving its named sub-schemas (.meta({ id })) into components.
 * Request bodies (strictObjects) refuse unknown keys at every depth
 * (server/rest/unknown-keys.ts), so each of their objects without a catchall
 * says additionalProperties: false.
 */
function render(schema: z.ZodType, io: "input" | "output", components: Record<string, JsonSchema>, strictObjects = false): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    override: (ctx) => {
      // Dates travel as RFC 3339 strings.
      const def = (ctx.zodSchema as { _zod: { def: { type: string; catchall?: unknown } } })._zod.def;
      if (def.type === "date") Object.assign(ctx.jsonSchema, { type: "string", format: "date-time" });
      if (strictObjects && def.type === "object" && def.catchall === undefined) ctx.jsonSchema.additionalProperties = false;
    },
  }) as JsonSchema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  delete json.$schema;
  const relink = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(relink);
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = k === "$ref" && typeof v === "string" ? v.replace(/^#\/\$defs\//, "#/components/schemas/") : relink(v);
      return out;
    }
    return value;
  };
  for (const [id, def] of Object.entries(defs)) components[id] = relink(def) as JsonSchema;
  return relink(json) as JsonSchema;
}

function parameters(ep: Endpoint, where: "path" | "query", components: Record<string, JsonSchema>) {
  const shape = (where === "path" ? ep.params : ep.query).shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([name, field]) => {
    const schema = render(field, "input", components);
    const description = typeof schema.description === "string" ? schema.description : undefined;
    delete schema.description;
    return {
      name,
      in: where,
      required: where === "path" || !field.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema,
    };
  });
}

function permissionNote(ep: Endpoint): string {
  if (ep.permission === "public") return "Public: no token needed.";
  if (ep.permission === null) return "Any valid token.";
  return `Needs \`${ep.permission}\`${ep.path.startsWith("/hosts/{hostId}") ? " on the host" : ""}.`;
}

export function operationOf(ep: Endpoint, components: Record<string, JsonSchema>) {
  const responses: Record<string, unknown> = {};
  for (const a of ep.answers) {
    const content: Record<string, unknown> = {};
    for (const [type, schema] of Object.entries(a.content)) content[type] = schema ? { schema: render(schema, "output", components) } : {};
    responses[String(a.status)] = { description: a.description, content };
  }
  const statuses = new Set(ep.errors);
  if (ep.permission !== "public") for (const s of [401, 429, 500]) statuses.add(s);
  if (ep.body) statuses.add(413);
  // Anything that talks to a host can meet a host that is down, slow or refusing the gateway's credentials.
  if (ep.path.startsWith("/hosts/{hostId}/")) for (const s of [412, 503, 504]) statuses.add(s);
  for (const s of [...statuses].sort((a, b) => a - b)) responses[String(s)] = { $ref: `#/components/responses/${ERROR_RESPONSES[s]!.name}` };
  return {
    operationId: ep.id,
    summary: ep.summary,
    description: [ep.description, permissionNote(ep)].filter(Boolean).join("\n\n"),
    tags: [ep.resource],
    security: ep.permission === "public" ? [] : [{ bearerAuth: [] }],
    "x-berth-permission": ep.permission === "public" ? null : ep.permission,
    "x-berth-audit-action": ep.action,
    parameters: [...parameters(ep, "path", components), ...parameters(ep, "query", components)],
    ...(ep.body ? { requestBody: { required: true, content: { "application/json": { schema: render(ep.body, "input", components, true) } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const ep of ENDPOINT_LIST) {
    paths[ep.path] ??= {};
    paths[ep.path]![ep.method.toLowerCase()] = operationOf(ep, schemas);
  }
  const errorSchema = render(errorBody, "output", schemas);
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(ERROR_RESPONSES)) {
    responses[r.name] = {
      description: `${status}: ${r.description}`,
      ...(status === "429" ? { headers: { "Retry-After": { description: "Seconds until the token may send again.", schema: { type: "integer", minimum: 1 } } } } : {}),
      ...(status === "401" ? { headers: { "WWW-Authenticate": { description: 'Bearer realm="berth" (with error="invalid_token" when a token was sent).', schema: { type: "string" } } } } : {}),
      content: { "application/json": { schema: errorSchema } },
    };
  }
  return {
    openapi: "3.1.1",
    info: {
      title: "Berth REST API",
      version: "1.0.0",
      description:
        "Automation API of the Berth gateway. Authenticate with a personal API token (Settings → API tokens): `Authorization: Bearer berth_…`. " +
        "A token does at most what its owner may do now, narrowed to its permissions and hosts. Every mutation and every denial is audited with the token as the actor. " +
        `Each token may send ${TOKEN_RATE_DOC}. Errors are JSON: {"error":{"code","message","requestId"}}. ` +
        "For application/x-ndjson answers the schema given is that of one line.",
    },
    servers: [{ url: "/api/v1" }],
    tags: RESOURCES.map((name) => ({ name })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "berth_<40 characters>", description: "A personal API token." },
      },
      schemas,
      responses,
    },
  };
}
