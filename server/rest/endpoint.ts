import "server-only";
import { z } from "zod";
import { AppError } from "../errors";
import { jsonDepthProblem } from "../http/json-depth";
import type { Endpoint, HttpMethod } from "./endpoints";
import { methodsOf } from "./endpoints";
import { errorResponse } from "./errors";
import { restRoute, type RestRequest } from "./handler";
import { parseBodyStrictly } from "./unknown-keys";

// A route handler for one endpoint of the table: restRoute (token, rate
// limit, body cap, audit) plus the endpoint's own validation, with the very
// schemas the OpenAPI document is generated from.

type RawParams = Record<string, string | string[] | undefined>;

export interface EndpointRequest<E extends Endpoint> extends RestRequest<RawParams> {
  path: z.output<E["params"]>;
  query: z.output<E["query"]>;
  body: [NonNullable<E["body"]>] extends [never] ? undefined : NonNullable<E["body"]> extends z.ZodType ? z.output<NonNullable<E["body"]>> : undefined;
}

function notFound(request: Request): AppError {
  return new AppError("NOT_FOUND", `No such API resource: ${request.method} ${new URL(request.url).pathname}`);
}

function issuesMessage(where: string, error: z.ZodError): string {
  return `Invalid ${where}:\n${z.prettifyError(error)}`;
}

/** A query string as an object: repeated keys become arrays, empty values are dropped. */
export function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    if (value === "") continue;
    const seen = out[key];
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/**
 * The request's JSON body, or a 400 that says what is wrong with it. The
 * Content-Type isn't insisted on (curl -d sends form-urlencoded): the body is
 * JSON or it is refused as malformed.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) throw new AppError("BAD_REQUEST", "This request needs a JSON body.");
  const tooDeep = jsonDepthProblem(text);
  if (tooDeep) throw new AppError("BAD_REQUEST", `Malformed JSON in the request body: ${tooDeep}.`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AppError("BAD_REQUEST", `Malformed JSON in the request body: ${e instanceof SyntaxError ? e.message : "it does not parse"}.`);
  }
}

/** Parses path parameters, query and body with the endpoint's schemas (path: 404 when they don't fit, the rest: 400 naming the field). */
export async function parseEndpointInput<E extends Endpoint>(ep: E, request: Request, raw: RawParams) {
  const path = ep.params.safeParse(raw);
  if (!path.success) throw notFound(request);
  const query = ep.query.safeParse(queryObject(new URL(request.url)));
  if (!query.success) throw new AppError("BAD_REQUEST", issuesMessage("query string", query.error));
  let body: unknown = undefined;
  if (ep.body) {
    const parsed = parseBodyStrictly(ep.body, await readJsonBody(request));
    if (!parsed.success) {
      const lines = [...parsed.unknown.map((u) => `✖ ${u}`), ...(parsed.error ? [z.prettifyError(parsed.error)] : [])];
      throw new AppError("BAD_REQUEST", `Invalid request body:\n${lines.join("\n")}`);
    }
    body = parsed.data;
  }
  return { path: path.data, query: query.data, body } as Pick<EndpointRequest<E>, "path" | "query" | "body">;
}

export function endpointRoute<E extends Endpoint>(ep: E, run: (r: EndpointRequest<E>) => Promise<unknown>) {
  return restRoute<RawParams>({ action: ep.action, mutation: ep.mutation }, async (r) => {
    // Recorded against the host named in the path even when the input is refused.
    if (typeof r.params.hostId === "string") r.audit.hostId = r.params.hostId.slice(0, 64);
    const input = await parseEndpointInput(ep, r.request, r.params);
    return run({ ...r, ...input });
  });
}

/**
 * 405 handlers for the methods a path of the table doesn't have. They go
 * through restRoute like any other request: without a valid token the answer
 * is 401 (audited, as every failed authentication), over the rate limit 429,
 * and only then 405 with Allow, so paths can't be probed without a token.
 */
export function otherMethods(path: string): Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", (req: Request, context: { params: Promise<RawParams> }) => Promise<Response>> {
  const allowed: HttpMethod[] = methodsOf(path);
  if (!allowed.length) throw new Error(`no endpoint has the path ${path}`);
  const refuse = restRoute<RawParams>({ action: "api.v1.methodNotAllowed" }, async ({ request, meta }) =>
    errorResponse({ code: "METHOD_NOT_ALLOWED", message: `${request.method} is not supported here; use ${allowed.join(", ")}.` }, meta.requestId, { allow: allowed.join(", ") }),
  );
  return { GET: refuse, POST: refuse, PUT: refuse, PATCH: refuse, DELETE: refuse };
}
