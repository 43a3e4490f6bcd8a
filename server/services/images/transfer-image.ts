import "server-only";
import { requireOnHost, type HostRef, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import type { FleetServices } from "../../fleet/instance";
import { layerProgress, progressKey } from "../operations/progress";
import { registryAuthHeader } from "../registries/registries";
import type { FleetAccess } from "../service-deps";

// Pulling an image onto a host, and pushing one from it to a saved registry,
// with live progress to the console when it passed a progress token.

interface TransferInput {
  db: Db;
  viewer: Viewer;
  hostId: string;
  reference: string;
  progressToken?: string;
}

/** Runs the agent's pull or push, reporting each layer and the end (done or the error) under the viewer's token. */
async function transfer(services: FleetServices, o: TransferInput & { kind: "pull" | "push"; registryAuth?: string }): Promise<void> {
  const key = progressKey(o.viewer, o.progressToken);
  const report = services.fleet.reportProgress.bind(services.fleet);
  try {
    await services.fleet.client(o.hostId)[o.kind](o.reference, {
      registryAuth: o.registryAuth,
      timeoutMs: 60_000,
      onProgress: (p) => key && report({ key, phase: o.kind, message: p.status ?? "", layer: layerProgress(p) }),
    });
  } catch (e) {
    if (key) report({ key, phase: "error", message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  if (key) report({ key, phase: "done", message: `${o.kind === "pull" ? "Pulled" : "Pushed"} ${o.reference}` });
}

/** Pulls `reference` onto the host, with a saved registry's credentials when one is named. */
export async function pullImage(o: TransferInput & { services: FleetServices; registryId?: string }): Promise<{ pulled: string }> {
  const auth = o.registryId ? await registryAuthHeader(o.db, o.services.box, o.registryId, o.reference) : null;
  await transfer(o.services, { ...o, kind: "pull", registryAuth: auth?.header });
  return { pulled: o.reference };
}

/** Pushes `reference` from the host to a saved registry. Publishing what is on the host takes build rights there too. */
export async function pushImage(o: Omit<TransferInput, "hostId"> & { fleet: FleetAccess; host: HostRef; registryId: string }): Promise<{ pushed: string }> {
  requireOnHost(o.viewer, "images.build", o.host, "Pushing needs the images.build permission on this host.");
  const services = await o.fleet();
  const auth = await registryAuthHeader(o.db, services.box, o.registryId, o.reference);
  await transfer(services, { ...o, hostId: o.host.id, kind: "push", registryAuth: auth.header });
  return { pushed: o.reference };
}
