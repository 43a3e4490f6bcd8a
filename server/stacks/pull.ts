import "server-only";
import type { StackService } from "../../lib/compose/model";
import { AppError } from "../errors";
import type { PullProgress } from "../fleet/agent/types";
import { resolvedImageOf, type DeployGateInput, type DeployVerdict } from "../policy/gate";
import type { StackAgent } from "./host-state";
import type { StackProgress } from "./converge";
import { layerProgress } from "../services/operations/progress";

// Each service's image per its pull_policy, with progress naming the service,
// and the policy gate again on the image as the host resolves it (as a single
// deploy does): a name or ID proves nothing until the host says what it is.
// Services sharing an image share one pull.

export type JudgeImage = (service: StackService, image: DeployGateInput["image"]) => Promise<DeployVerdict>;

export async function pullAndJudgeServices(o: {
  client: StackAgent;
  services: StackService[];
  judge: JudgeImage;
  registryAuth: (service: StackService) => Promise<string | undefined>;
  report: (p: StackProgress) => void;
}): Promise<Map<string, DeployVerdict>> {
  const pulls = new Map<string, Promise<void>>();
  const verdicts = new Map<string, DeployVerdict>();
  const onHost = async (ref: string) => resolvedImageOf(await o.client.inspectImage(ref));
  await Promise.all(
    o.services.map(async (s) => {
      const spec = s.spec;
      const present = await o.client.inspectImage(spec.image);
      if (spec.pullPolicy === "never" || (spec.pullPolicy === "missing" && present)) {
        if (!present) throw new AppError("PRECONDITION_FAILED", `Service "${s.name}": the host has no image ${spec.image} and its pull policy is "never".`);
        o.report({ phase: "pull", message: `Using ${spec.image} already on the host`, service: s.name });
        verdicts.set(s.name, await o.judge(s, async () => resolvedImageOf(present)));
        return;
      }
      await o.judge(s, "will-pull");
      let pull = pulls.get(spec.image);
      if (!pull) {
        pull = (async () => {
          const auth = await o.registryAuth(s);
          o.report({ phase: "pull", message: `Pulling ${spec.image}`, service: s.name });
          await o.client.pull(spec.image, {
            registryAuth: auth,
            timeoutMs: 60_000,
            onProgress: (p: PullProgress) => o.report({ phase: "pull", message: p.status ?? "", service: s.name, ...(p.id ? { layer: layerProgress(p) } : {}) }),
          });
        })();
        pulls.set(spec.image, pull);
      }
      try {
        await pull;
      } catch (e) {
        throw new AppError("PRECONDITION_FAILED", `Service "${s.name}": pulling ${spec.image} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      verdicts.set(s.name, await o.judge(s, onHost));
    }),
  );
  return verdicts;
}
