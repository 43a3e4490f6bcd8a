import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// conmon writes an `oom` marker into its working directory when the kernel
// OOM-kills a container. The agent runs conmon in the container's bundle, so
// the marker stays with the container instead of landing in whatever
// directory the agent was started from (the repository root, in tests; `/`
// under systemd).

let env: CompatEnv;

beforeAll(async () => {
  env = await startCompatEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("an OOM-killed container", () => {
  it("leaves conmon's oom marker in its own bundle, not in the agent's working directory", async () => {
    const strayBefore = existsSync(path.join(process.cwd(), "oom"));
    const hog = await env.agent.docker(["run", "--name", "oom-marker", "-m", "32m", "--memory-swap", "32m", env.image, "sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}"]);
    expect(hog.code).toBe(137);
    const id = (await env.agent.docker(["inspect", "-f", "{{.Id}}", "oom-marker"])).stdout.trim();
    expect(existsSync(path.join(env.agent.root, "containers", id, "bundle", "oom"))).toBe(true);
    // The agent of this test runs in this process's working directory.
    if (!strayBefore) expect(existsSync(path.join(process.cwd(), "oom"))).toBe(false);
    await env.agent.docker(["rm", "oom-marker"]);
  });
});
