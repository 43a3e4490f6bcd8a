import "server-only";
import type { SecretBox } from "../../secrets/cipher";
import type { DeploySpec } from "../../../lib/deploy/spec";

// Secret environment values: sealed in the saved spec, masked towards the browser.

const PURPOSE = "deployment-env";
export const MASK = "••••••";

export function sealSpecSecrets(box: SecretBox, spec: DeploySpec): DeploySpec {
  return { ...spec, env: spec.env.map((e) => (e.secret ? { ...e, value: box.seal(e.value, PURPOSE) } : e)) };
}

export function openSpecSecrets(box: SecretBox, spec: DeploySpec): DeploySpec {
  return { ...spec, env: spec.env.map((e) => (e.secret ? { ...e, value: box.open(e.value, PURPOSE) } : e)) };
}

export function maskSpecSecrets(spec: DeploySpec): DeploySpec {
  return { ...spec, env: spec.env.map((e) => (e.secret ? { ...e, value: MASK } : e)) };
}

/** An edited spec keeps a secret's old value where the form sent back the mask. */
export function keepMaskedSecrets(edited: DeploySpec, previousOpened: DeploySpec): DeploySpec {
  const old = new Map(previousOpened.env.filter((e) => e.secret).map((e) => [e.name, e.value]));
  return { ...edited, env: edited.env.map((e) => (e.secret && e.value === MASK && old.has(e.name) ? { ...e, value: old.get(e.name)! } : e)) };
}

/** The image's repository, without tag or digest: a new tag of the same repository is an update, another repository another program. */
function repositoryOf(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  return colon > slash ? name.slice(0, colon) : name;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * What an edit changes about the program a deployment runs, which could then
 * print its secret environment to the logs: its command, entrypoint, user,
 * health check command or image repository. Empty when it holds no secrets.
 */
export function secretExposingChanges(previous: DeploySpec, next: DeploySpec): string[] {
  if (!previous.env.some((e) => e.secret)) return [];
  const changes: string[] = [];
  if (!same(previous.command, next.command)) changes.push("command");
  if (!same(previous.entrypoint, next.entrypoint)) changes.push("entrypoint");
  if (!same(previous.user, next.user)) changes.push("user");
  if (!same(previous.healthcheck?.test, next.healthcheck?.test)) changes.push("health check command");
  if (repositoryOf(previous.image) !== repositoryOf(next.image)) changes.push("image repository");
  return changes;
}
