import { methodNotAllowed } from "@/server/rest/handler";
import { renderReference } from "@/server/rest/reference";

export const dynamic = "force-dynamic";

// Public, as openapi.json: the reference page is generated from the same endpoint table.
let cached: string | null = null;

export function GET(): Response {
  cached ??= renderReference();
  return new Response(cached, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "public, max-age=300",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    },
  });
}

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
