import type { SecretBox } from "../../secrets/cipher";
import type { DeploySpec } from "../../deploy/spec";

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
