import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AgentError } from "../errors";

// One agent process per state root: start-up clears half-written work
// (ingest/, tmp-*), which would break another process using the same root.

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes root/agent.pid for this process (making the root, root-only, if it is new); throws if another live process holds it. */
export function lockRoot(root: string): void {
  const file = path.join(root, "agent.pid");
  if (held.has(file)) return;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      held.add(file);
      if (held.size === 1) process.once("exit", () => held.forEach((f) => rmSync(f, { force: true })));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
      if (pid === process.pid) {
        held.add(file);
        return;
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new AgentError("CONFLICT", `agent root ${root} is in use by another berth-agent process (pid ${pid}); use that one, or another --root`);
      }
      // Left by a process that died: take it over.
      rmSync(file, { force: true });
    }
  }
  throw new AgentError("INTERNAL", `could not lock agent root ${root}`);
}
