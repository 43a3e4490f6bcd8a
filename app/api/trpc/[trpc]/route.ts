import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { requestMetaFrom } from "@/server/auth/request-meta";
import { getViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { isAppError } from "@/server/errors";
import { getFleet } from "@/server/fleet/instance";
import { auditActionsFor, recordRefusal, refusalBody } from "@/server/http/cross-origin-guard";
import { limitedRequest } from "@/server/http/limited-request";
import { appRouter } from "@/server/routers/_app";

// Cross-origin mutations were refused by the gateway's HTTP server before
// reaching here (server/http/cross-origin-guard.ts).

/**
 * tRPC would also take a mutation as multipart/form-data or a bare body, which
 * a plain HTML form can send without a CORS preflight; the console only ever
 * sends JSON, so nothing else gets through.
 */
async function refuseNonJsonMutation(req: Request): Promise<Response | null> {
  if (req.method !== "POST") return null;
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") return null;
  const meta = requestMetaFrom(req.headers);
  const message = `tRPC mutations must be sent as application/json (got ${type ? type.slice(0, 100) : "no content type"}).`;
  const pathname = new URL(req.url).pathname;
  await recordRefusal(db(), {
    cookieHeader: req.headers.get("cookie"),
    meta,
    actions: auditActionsFor(pathname),
    errorMessage: message,
    params: { method: req.method, path: pathname.slice(0, 300), contentType: type.slice(0, 100) || null },
  });
  return new Response(refusalBody(message, meta.requestId, "UNSUPPORTED_MEDIA_TYPE"), {
    status: 415,
    headers: { "content-type": "application/json" },
  });
}

async function handler(req: Request) {
  const refused = await refuseNonJsonMutation(req);
  if (refused) return refused;
  let request: Request;
  try {
    request = await limitedRequest(req, env().BERTH_MAX_BODY_BYTES);
  } catch (e) {
    if (isAppError(e) && e.code === "PAYLOAD_TOO_LARGE") {
      // limitedRequest read (and dropped) the rest of the body, so the client gets this answer.
      return Response.json({ error: { message: e.message, code: "PAYLOAD_TOO_LARGE" } }, { status: 413 });
    }
    throw e;
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: async () => ({ db: db(), viewer: await getViewer(), meta: requestMetaFrom(request.headers), fleet: getFleet }),
  });
}

export { handler as GET, handler as POST };
