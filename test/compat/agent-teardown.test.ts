import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// Retiring an agent (`berth-agent teardown`) leaves nothing of it in the
// cgroup trees: this machine mounts cgroup v1 controllers (and the v2 unified
// tree beside them), and the agent's parent exists in each of them.

const CGROUP_ROOT = "/sys/fs/cgroup";

/** Every /sys/fs/cgroup[/<hierarchy>]/<name> directory there is. */
function cgroupDirsNamed(name: string): string[] {
  const hierarchies = [CGROUP_ROOT, ...readdirSync(CGROUP_ROOT, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(CGROUP_ROOT, e.name))];
  return hierarchies.map((h) => path.join(h, name)).filter((d) => existsSync(d));
}

let env: CompatEnv;

beforeAll(async () => {
  env = await startCompatEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("berth-agent teardown", () => {
  it("removes the agent's cgroup parent from every hierarchy once its containers are gone", async () => {
    const parent = env.agent.cgroupParent;
    const run = await env.agent.docker(["run", "-d", "--name", "sleeper", "-m", "64m", "--pids-limit", "50", env.image, "sleep", "600"]);
    expect(run.code, run.stderr).toBe(0);
    // The container's cgroups live under the parent, in several hierarchies at once.
    const during = cgroupDirsNamed(parent);
    expect(during.length).toBeGreaterThan(1);
    expect(during.some((d) => existsSync(path.join(d, run.stdout.trim())))).toBe(true);

    const teardown = await env.agent.teardown();
    expect(teardown.code, teardown.stderr).toBe(0);
    expect(cgroupDirsNamed(parent)).toEqual([]);
  });
});
