import { buildOpenApiDocument } from "@/server/rest/openapi";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

// Public: the document describes the API (the same for everyone) and holds no data.
let cached: string | null = null;

export function GET(): Response {
  cached ??= JSON.stringify(buildOpenApiDocument());
  return new Response(cached, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" } });
}

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
