import "server-only";
import { type DeploySpec, deploySpecSchema } from "../../lib/deploy/spec";
import { MASK } from "../services/deploy/secrets";
import type { SpecChange } from "./types";

// What a deployment rollout changes, for the approval's diff and the
// timeline: one line per changed setting (env and labels per name), secret
// values masked on both sides. Fields a spec leaves out and ones at their
// empty default ([] / {} / false) count as the same.

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v as object).length === 0;
  return false;
}

/** The spec with the schema's defaults filled in (a spec saved before a default existed compares equal); as given if it doesn't parse. */
function withDefaults(spec: Partial<DeploySpec>): Partial<DeploySpec> {
  const parsed = deploySpecSchema.safeParse(spec);
  return parsed.success ? parsed.data : spec;
}

function envMap(spec: Partial<DeploySpec>): Map<string, { value: string; secret: boolean }> {
  return new Map((spec.env ?? []).map((e) => [e.name, { value: e.value, secret: Boolean(e.secret) }]));
}

/** The changes from `before` to `after` (both with secret values opened or both sealed: only equality is compared; values shown are masked). */
export function diffSpecs(before: Partial<DeploySpec> | null, afterGiven: Partial<DeploySpec>): SpecChange[] {
  const out: SpecChange[] = [];
  const b = before ? withDefaults(before) : {};
  const after = withDefaults(afterGiven);
  const keys = [...new Set([...Object.keys(b), ...Object.keys(after)])].sort();
  for (const key of keys) {
    if (key === "env") {
      const eb = envMap(b);
      const ea = envMap(after);
      for (const name of [...new Set([...eb.keys(), ...ea.keys()])].sort()) {
        const x = eb.get(name);
        const y = ea.get(name);
        if (x && y && x.value === y.value && x.secret === y.secret) continue;
        const shown = (v: { value: string; secret: boolean } | undefined) => (v === undefined ? null : v.secret ? MASK : v.value);
        out.push({ path: `env.${name}`, before: shown(x), after: shown(y) });
      }
      continue;
    }
    if (key === "labels") {
      const lb = (b.labels ?? {}) as Record<string, string>;
      const la = (after.labels ?? {}) as Record<string, string>;
      for (const name of [...new Set([...Object.keys(lb), ...Object.keys(la)])].sort()) {
        if (lb[name] !== la[name]) out.push({ path: `labels.${name}`, before: lb[name] ?? null, after: la[name] ?? null });
      }
      continue;
    }
    const x = (b as Record<string, unknown>)[key];
    const y = (after as Record<string, unknown>)[key];
    if (same(x, y) || (isEmpty(x) && isEmpty(y))) continue;
    out.push({ path: key, before: x ?? null, after: y ?? null });
  }
  return out;
}

/** A fixed published host port (or the host's network) means two containers can't run at once: stop-first. */
export function needsStopFirst(spec: Pick<DeploySpec, "ports" | "network">): boolean {
  return spec.network === "host" || (spec.ports ?? []).some((p) => p.hostPort !== undefined);
}
