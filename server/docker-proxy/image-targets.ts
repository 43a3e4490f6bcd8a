import "server-only";
import { parseReference } from "../../lib/image-reference";
import type { PolicyViolation } from "../../lib/policy/check";
import { normaliseRegistry, RULES, type DeployPolicy } from "../../lib/policy/rules";

// The image names a call gives to an image on the host: `docker tag`, `build -t`,
// `commit`, `import` name images anything, so a registry allowlist that only
// judged what is pulled or deployed could be passed by pulling evil.io/x and
// tagging it allowed.reg/app. Those target names are judged against the
// host's registry allowlist as a deployed image is. `docker load` names its
// images inside the archive, which the gateway doesn't read: under an
// allowlist it is refused.

export type ImageTargets = { kind: "names"; names: string[] } | { kind: "archive" } | null;

const withTag = (repo: string, tag: string | null) => (tag ? `${repo}:${tag}` : repo);

/** The names an endpoint (by its audit action) gives to images, from its query. */
export function imageTargetsOf(action: string, query: URLSearchParams): ImageTargets {
  switch (action) {
    case "docker.images.tag":
    case "docker.images.commit": {
      const repo = query.get("repo");
      return { kind: "names", names: repo ? [withTag(repo, query.get("tag"))] : [] };
    }
    case "docker.images.build":
      return { kind: "names", names: query.getAll("t").filter((t) => t !== "") };
    case "docker.images.pull": {
      // An import (fromSrc) names the new image with repo (+ tag); a pull's name is the pulled image's own.
      if (!query.has("fromSrc")) return null;
      const repo = query.get("repo");
      return { kind: "names", names: repo ? [withTag(repo, query.get("tag"))] : [] };
    }
    case "docker.images.load":
      return { kind: "archive" };
    default:
      return null;
  }
}

function violation(message: string): PolicyViolation {
  const label = RULES.registryAllowlist;
  return { rule: "registryAllowlist", label, field: "image", message: `${message} — rule "${label}"` };
}

/** What the host's registry allowlist says of the names a call gives (empty: allowed). */
export function imageTargetViolations(targets: ImageTargets, policy: Pick<DeployPolicy, "registryAllowlist">): PolicyViolation[] {
  const registries = (policy.registryAllowlist ?? []).map(normaliseRegistry);
  if (!targets || registries.length === 0) return [];
  if (targets.kind === "archive") {
    return [violation(`docker load can't be checked against the allowed registries (${registries.join(", ")}): the image names are inside the archive`)];
  }
  const out: PolicyViolation[] = [];
  for (const name of targets.names) {
    let registry: string;
    try {
      registry = normaliseRegistry(parseReference(name).registry);
    } catch (e) {
      out.push(violation(`Image name "${name}" can't be checked against the allowed registries: ${e instanceof Error ? e.message : "not a valid image reference"}`));
      continue;
    }
    if (!registries.includes(registry)) out.push(violation(`Image name "${name}" is in registry "${registry}", which is not allowed (${registries.join(", ")})`));
  }
  return out;
}
