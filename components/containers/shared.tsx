import type { ReactNode } from "react";
import { Badge } from "@/components/ui/card";

// What the containers pages share: where a permission reaches (computed by the
// server page), the state badge, port and time formatting.

/** Where a host permission reaches, as the page computed it on the server with hostCoverage. */
export interface Coverage {
  all: boolean;
  hostIds: string[];
  hostGroupIds: string[];
}

/** Whether the coverage includes the host. A host whose group is unknown counts only by id (fails closed). */
export function covers(c: Coverage, host: { id: string; hostGroupId?: string | null }): boolean {
  return c.all || c.hostIds.includes(host.id) || (host.hostGroupId != null && c.hostGroupIds.includes(host.hostGroupId));
}

export const reasonFor = (permission: string) => `Needs the ${permission} permission on this host.`;

export type ContainerAction = "start" | "stop" | "restart" | "pause" | "unpause" | "remove";

export const ACTION_PERMISSION: Record<ContainerAction, "containers.control" | "containers.delete"> = {
  start: "containers.control",
  stop: "containers.control",
  restart: "containers.control",
  pause: "containers.control",
  unpause: "containers.control",
  remove: "containers.delete",
};

export const ACTION_LABEL: Record<ContainerAction, string> = {
  start: "Start",
  stop: "Stop",
  restart: "Restart",
  pause: "Pause",
  unpause: "Unpause",
  remove: "Remove",
};

const STATE_TONE: Record<string, "green" | "red" | "amber" | "slate" | "sky"> = {
  running: "green",
  paused: "amber",
  restarting: "amber",
  created: "sky",
  exited: "slate",
  dead: "red",
};

export function StateBadge({ state }: { state: string }) {
  return (
    <span data-testid="container-state">
      <Badge tone={STATE_TONE[state] ?? "slate"}>{state}</Badge>
    </span>
  );
}

export interface PortView {
  ip?: string;
  privatePort: number;
  publicPort?: number;
  type: string;
}

/** "18090→80/tcp", or "80/tcp" when not published. */
export function portText(p: PortView): string {
  const inner = `${p.privatePort}/${p.type}`;
  if (!p.publicPort) return inner;
  const ip = p.ip && p.ip !== "0.0.0.0" && p.ip !== "::" ? `${p.ip}:` : "";
  return `${ip}${p.publicPort}→${inner}`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

export function formatDate(value: Date | string | number): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** A disabled control's reason, shown next to it (a title alone is invisible on touch screens and to many readers). */
export function Reason({ children }: { children: ReactNode }) {
  if (!children) return null;
  return <span className="text-xs text-slate-500 dark:text-slate-400">{children}</span>;
}

/** A link that looks like the primary Button. */
export const linkButton =
  "inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium transition-colors bg-sky-600 text-white hover:bg-sky-700";
