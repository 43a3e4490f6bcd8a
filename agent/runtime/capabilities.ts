import { readFileSync } from "node:fs";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "../../lib/docker/capabilities";
import { SpecError } from "./spec-error";

// A container's capabilities as dockerd computes them (the lists themselves:
// lib/docker/capabilities.ts), bounded by what this agent holds.

const KNOWN_CAPS = new Set(ALL_CAPABILITIES);

/** "net_admin" / "NET_ADMIN" / "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL". */
function normalizeCaps(names: string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    let c = raw.trim().toUpperCase();
    if (c !== "ALL") {
      if (!c.startsWith("CAP_")) c = `CAP_${c}`;
      if (!KNOWN_CAPS.has(c)) throw new SpecError(`unknown capability: ${JSON.stringify(c)}`);
    }
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

let boundingSet: string[] | null = null;

/**
 * "All capabilities" as the agent can grant them: those in its own bounding
 * set (as podman does). A sandboxed agent may lack some (CAP_SYS_RESOURCE,
 * say), and asking runc for one it lacks fails the whole start.
 */
export function hostCapabilities(): string[] {
  if (boundingSet) return boundingSet;
  let mask: bigint | null = null;
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("CapBnd:"));
    if (line) mask = BigInt(`0x${line.split(/\s+/)[1]}`);
  } catch {
    mask = null;
  }
  boundingSet = mask === null ? [...ALL_CAPABILITIES] : ALL_CAPABILITIES.filter((_, bit) => (mask! >> BigInt(bit)) & 1n);
  return boundingSet;
}

/**
 * The container's capability set (bounding = permitted = effective), as
 * dockerd's TweakCapabilities: privileged gets all; --cap-add ALL gets all
 * minus --cap-drop; --cap-drop ALL keeps only --cap-add; otherwise the
 * defaults minus drops plus adds. Throws SpecError on an unknown name.
 */
export function computeCapabilities(privileged: boolean, capAdd: string[] = [], capDrop: string[] = []): string[] {
  const add = normalizeCaps(capAdd);
  const drop = normalizeCaps(capDrop);
  if (privileged) return hostCapabilities();
  let caps: string[];
  if (add.includes("ALL")) caps = hostCapabilities().filter((c) => !drop.includes(c));
  else if (drop.includes("ALL")) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}
