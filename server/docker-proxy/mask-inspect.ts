import "server-only";
import type http from "node:http";
import type { Db } from "../db";
import { readCapped } from "../http/read-capped";
import { MASK } from "../services/deploy/secrets";
import type { Approved, ProxyContext } from "./context";
import { forwardedResponseHeaders, sendError } from "./wire";

// GET /containers/{id}/json through the proxy: a deployment's secret env
// values are masked as the console and the REST API mask them.

/** A container inspect answer is read whole (to mask secrets) up to this size. */
const INSPECT_MAX_BYTES = 8 * 1024 * 1024;

/** Names of a deployment's secret env variables for a container on the host (by its id, or its deployment's name). */
async function secretEnvNames(db: Db, hostId: string, containerId: string, containerName: string): Promise<Set<string>> {
  const rows = await db.deployment.findMany({
    where: { hostId, OR: [{ containerId }, ...(containerName ? [{ name: containerName }] : [])] },
    select: { spec: true },
  });
  const names = new Set<string>();
  for (const row of rows) for (const e of (row.spec as { env?: { name?: unknown; secret?: unknown }[] } | null)?.env ?? []) if (e.secret === true && typeof e.name === "string") names.add(e.name);
  return names;
}

/**
 * Reads the agent's inspect answer whole (bounded), masks a deployment's
 * secret env values, and sends it. Anything that can't be read as an
 * inspect answer is not passed on.
 */
export function sendMaskedInspect(ctx: ProxyContext, a: Approved, ares: http.IncomingMessage, res: http.ServerResponse, done: () => void): void {
  readCapped(ares, INSPECT_MAX_BYTES)
    .then(
      async ({ body: raw, complete }) => {
        try {
          if (!complete) throw new Error(`the agent's inspect answer is larger than ${INSPECT_MAX_BYTES} bytes`);
          const body = JSON.parse(raw.toString("utf8")) as { Id?: unknown; Name?: unknown; Config?: { Env?: unknown } | null };
          const id = typeof body.Id === "string" ? body.Id : "";
          const name = typeof body.Name === "string" ? body.Name.replace(/^\//, "") : "";
          const env = body.Config?.Env;
          if (Array.isArray(env) && env.length) {
            const secret = await secretEnvNames(ctx.db(), a.host.id, id, name);
            if (secret.size) {
              body.Config!.Env = env.map((kv) => {
                if (typeof kv !== "string") return kv;
                const n = kv.split("=", 1)[0]!;
                return secret.has(n) ? `${n}=${MASK}` : kv;
              });
            }
          }
          const out = Buffer.from(JSON.stringify(body));
          const headers = forwardedResponseHeaders(ares.headers);
          delete headers["content-length"];
          res.writeHead(200, { ...headers, "content-type": "application/json", "content-length": out.length });
          res.end(out);
        } catch (e) {
          ctx.log(`inspect ${a.meta.requestId} not passed on: ${e instanceof Error ? e.message : String(e)}`);
          if (!res.headersSent) sendError(res, 502, `host ${a.host.name}: the agent's inspect answer could not be read`);
          else res.destroy();
        }
      },
      () => {
        if (!res.headersSent) sendError(res, 502, `host ${a.host.name}: the agent's answer broke off`);
      },
    )
    .finally(done);
}
