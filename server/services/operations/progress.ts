import "server-only";
import { on } from "node:events";
import type { Viewer } from "../../auth/access";
import type { PullProgress } from "../../fleet/agent/types";
import type { OperationProgress } from "../../fleet/fleet";
import type { FleetAccess } from "../service-deps";

// Progress of a user's own long operations (deploy, pull, push). The console
// picks a token, subscribes, then starts the operation with that token; the
// key pairs the token with the user, so nobody watches another's progress.

export function progressKey(viewer: Viewer, token: string | null | undefined): string | undefined {
  return token ? `${viewer.user.id}:${token}` : undefined;
}

/** One layer's pull or push progress, as the agent reports it (none for a message without a layer). */
export function layerProgress(p: PullProgress): OperationProgress["layer"] {
  return p.id ? { id: p.id, status: p.status ?? "", current: p.progressDetail?.current, total: p.progressDetail?.total } : undefined;
}

/** The viewer's operation under `token`, until it is done or fails (or the signal aborts). */
export async function* watchOperationProgress(o: { viewer: Viewer; fleet: FleetAccess; token: string; signal?: AbortSignal }) {
  const { fleet } = await o.fleet();
  const key = progressKey(o.viewer, o.token);
  for await (const [p] of on(fleet, "progress", { signal: o.signal }) as AsyncIterable<[OperationProgress]>) {
    if (p.key !== key) continue;
    const { key: _key, ...event } = p;
    yield event;
    if (p.phase === "done" || p.phase === "error") return;
  }
}
