import "server-only";
import { requireOnHost, type Viewer } from "../../auth/access";
import type { Db } from "../../db";
import { projectContainers } from "../../stacks/host-state";
import type { FleetAccess } from "../service-deps";
import { stackFor } from "./view-stacks";

// A stack's live logs: the log streams of the chosen services' containers,
// merged as lines arrive, each tagged with its service and container. When
// the signal aborts (the browser went away) every agent stream is closed.

export interface StackLogLine {
  service: string;
  container: string;
  stream: "stdout" | "stderr";
  time: string;
  line: string;
}

/** "2026-12-10T10:00:00.123456789Z rest" → [time, rest]. */
function splitTimestamp(text: string): [string, string] {
  const space = text.indexOf(" ");
  if (space > 0 && /^\d{4}-\d\d-\d\dT/.test(text)) return [text.slice(0, space), text.slice(space + 1)];
  return [new Date().toISOString(), text];
}

export async function* followStackLogs(o: { db: Db; viewer: Viewer; fleet: FleetAccess; stackId: string; services?: string[]; tail: number; signal?: AbortSignal }): AsyncGenerator<StackLogLine> {
  const s = await stackFor(o.db, o.viewer, o.stackId, "stacks.read");
  // A stack's logs are its containers' logs: reading them takes what reading a container's takes, too.
  requireOnHost(o.viewer, "containers.logs", { id: s.hostId, hostGroupId: s.host.hostGroupId }, "You need the containers.logs permission on this stack's host.");
  const { fleet } = await o.fleet();
  const client = fleet.client(s.hostId);
  const containers = (await projectContainers(client, s.project)).filter((c) => !o.services?.length || o.services.includes(c.service));
  const queue: StackLogLine[] = [];
  let wake: (() => void) | null = null;
  let open = containers.length;
  const signal = o.signal;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const c of containers) {
    void (async () => {
      try {
        let partial = "";
        for await (const frame of client.logs(c.id, { follow: true, tail: o.tail, timestamps: true, signal, timeoutMs: 10_000 })) {
          const text = partial + frame.text;
          const lines = text.split("\n");
          partial = lines.pop() ?? "";
          for (const l of lines) {
            const [time, line] = splitTimestamp(l);
            queue.push({ service: c.service, container: c.name, stream: frame.stream === "stderr" ? "stderr" : "stdout", time, line });
          }
          notify();
        }
        if (partial) {
          const [time, line] = splitTimestamp(partial);
          queue.push({ service: c.service, container: c.name, stream: "stdout", time, line });
        }
      } catch {
        // One container's stream ending (removed, host gone) doesn't end the others.
      } finally {
        open--;
        notify();
      }
    })();
  }
  signal?.addEventListener("abort", notify, { once: true });
  while (!signal?.aborted) {
    if (queue.length) {
      yield queue.shift()!;
      continue;
    }
    if (open === 0) return;
    await new Promise<void>((r) => (wake = r));
  }
}
