import { Badge, type Tone } from "@/components/ui/badge";

// What the containers pages share: the actions and the permission each takes,
// the state badge, and how a port is written.

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

const STATE_TONE: Record<string, Tone> = {
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
