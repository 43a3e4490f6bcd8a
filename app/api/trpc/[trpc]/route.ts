import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { requestMetaFrom } from "@/server/auth/request-meta";
import { getViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { isAppError } from "@/server/errors";
import { getFleet } from "@/server/fleet/instance";
import { limitedRequest } from "@/server/http/limited-request";
import { appRouter } from "@/server/routers/_app";

async function handler(req: Request) {
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
