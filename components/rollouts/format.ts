import type { RolloutStatusName, RolloutTriggerName, RolloutView } from "@/lib/rollouts/views";
import type { Tone } from "@/components/ui/badge";

// How the console writes a rollout: its status and trigger in words, a digest
// short, a duration. Pure: no React.

export const STATUS_LABEL: Record<RolloutStatusName, string> = {
  awaitingApproval: "waiting for approval",
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  superseded: "superseded",
  rejected: "rejected",
  expired: "expired",
  cancelled: "cancelled",
};

export const STATUS_TONE: Record<RolloutStatusName, Tone> = {
  awaitingApproval: "amber",
  queued: "sky",
  running: "sky",
  succeeded: "green",
  failed: "red",
  superseded: "slate",
  rejected: "red",
  expired: "slate",
  cancelled: "slate",
};

export const TRIGGER_LABEL: Record<RolloutTriggerName, string> = {
  form: "console",
  api: "API",
  webhook: "webhook",
  watcher: "registry watch",
  rollback: "rollback",
};

/** Statuses that can still change. */
export const ACTIVE_STATUSES: readonly RolloutStatusName[] = ["awaitingApproval", "queued", "running"];

export function isActive(status: RolloutStatusName): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** "sha256:0123456789ab…" (or "repo@sha256:…", as rollouts record them) as 12 hex digits; "—" for none. */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return "—";
  const hex = digest.slice(digest.lastIndexOf("@") + 1).replace(/^sha256:/, "");
  return hex.slice(0, 12);
}

/** 850 → "0.9 s", 75_000 → "1 min 15 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || ms < 0) return "—";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** Who asked for it, in words. */
export function actorLabel(actor: RolloutView["actor"]): string {
  if (actor.label) return actor.label;
  if (actor.type === "system") return "Berth";
  return actor.id ? `${actor.type} ${actor.id}` : actor.type;
}

/** The page of a rollout's target. */
export function targetHref(target: RolloutView["target"]): string {
  return target.kind === "deployment" ? `/deployments/${encodeURIComponent(target.id)}` : `/stacks/${encodeURIComponent(target.id)}`;
}

/** A rollout's digest changes: the deployment's own, or each stack service's. */
export function digestChanges(r: Pick<RolloutView, "digestBefore" | "digestAfter" | "digests">): { service: string | null; before: string | null; after: string | null }[] {
  const services = Object.entries(r.digests ?? {});
  if (services.length > 0) return services.map(([service, d]) => ({ service, before: d.before, after: d.after }));
  if (r.digestBefore || r.digestAfter) return [{ service: null, before: r.digestBefore, after: r.digestAfter }];
  return [];
}

/** A spec value as one line. */
export function specValue(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
