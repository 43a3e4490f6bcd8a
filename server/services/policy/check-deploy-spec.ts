import "server-only";
import { hasPermission, type HostRef, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { FleetAccess } from "../service-deps";
import type { DeploySpec } from "../../../lib/deploy/spec";
import { judgeDeploy, resolvedImageOf } from "../../policy/gate";

/**
 * What the host's policy says about a spec, for the deploy form to show as
 * you type: the same gate a deploy goes through. The image is judged by what
 * the host resolves it to, when the host answers in time.
 */
export async function checkDeploySpec(o: { db: Db; viewer: Viewer; fleet: FleetAccess; host: HostRef; spec: DeploySpec }) {
  if (!hasPermission(o.viewer, "containers.deploy")) throw new AppError("FORBIDDEN", "You need the containers.deploy permission.");
  const { fleet } = await o.fleet();
  const client = fleet.client(o.host.id);
  const verdict = await judgeDeploy({
    db: o.db,
    viewer: o.viewer,
    host: o.host,
    spec: o.spec,
    override: false,
    image: async (ref) => {
      try {
        return resolvedImageOf(await client.inspectImage(ref, { timeoutMs: 5_000 }));
      } catch {
        return undefined;
      }
    },
  });
  return { violations: verdict.violations, mayOverride: verdict.mayOverride };
}
