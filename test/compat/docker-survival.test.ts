import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";

// Restart policies, and containers outliving the agent: conmon holds them,
// and a restarted agent re-adopts them.

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  env = await startCompatEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("restart policies", () => {
  it("on-failure:2 restarts exactly twice", async () => {
    const r = await docker("run", "-d", "--name", "flaky", "--restart", "on-failure:2", env.image, "sh", "-c", "echo run; exit 1");
    expect(r.code).toBe(0);
    const done = await eventually(
      () => docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "flaky"),
      (x) => x.stdout.trim() === "exited 2 1",
    );
    expect(done.stdout.trim()).toBe("exited 2 1");
    // Three runs in all: the first and two restarts.
    expect((await docker("logs", "flaky")).stdout).toBe("run\nrun\nrun\n");
    // And it stays down.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await docker("inspect", "-f", "{{.RestartCount}}", "flaky")).stdout.trim()).toBe("2");
    await docker("rm", "flaky");
  });

  it("on-failure leaves a clean exit alone; stop beats always", async () => {
    await docker("run", "-d", "--name", "clean", "--restart", "on-failure", env.image, "true");
    const clean = await eventually(() => docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "clean"), (x) => x.stdout.startsWith("exited"));
    expect(clean.stdout.trim()).toBe("exited 0");
    await docker("rm", "clean");

    await docker("run", "-d", "--name", "stubborn", "--restart", "always", env.image, "sleep", "60");
    expect((await docker("stop", "-t", "1", "stubborn")).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await docker("inspect", "-f", "{{.State.Status}}", "stubborn")).stdout.trim()).toBe("exited");
    await docker("rm", "stubborn");
  });
});

describe("containers outlive the agent", () => {
  it("--restart always survives an agent restart, untouched", async () => {
    await docker("run", "-d", "--name", "keeper", "--restart", "always", env.image, "sh", "-c", "echo up; sleep 120");
    const pid = Number((await docker("inspect", "-f", "{{.State.Pid}}", "keeper")).stdout.trim());
    await env.agent.restart();
    const after = await docker("inspect", "-f", "{{.State.Status}} {{.State.Pid}} {{.RestartCount}}", "keeper");
    expect(after.stdout.trim()).toBe(`running ${pid} 0`);
    expect(alive(pid)).toBe(true);
    await docker("rm", "-f", "keeper");
  });

  it("kill -9 of the agent with 20 running containers: all keep running and are re-adopted", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `survivor-${i}`);
    for (const name of names) {
      const r = await docker("run", "-d", "--name", name, env.image, "sh", "-c", `echo hello from ${name}; trap 'exit 0' TERM; while true; do sleep 0.5; done`);
      expect(r.code).toBe(0);
    }
    const pids = new Map<string, number>();
    for (const name of names) pids.set(name, Number((await docker("inspect", "-f", "{{.State.Pid}}", name)).stdout.trim()));

    await env.agent.kill();
    // The agent is gone; the containers are not.
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of pids.values()) expect(alive(pid)).toBe(true);

    await env.agent.restart();
    const ps = await docker("ps", "--format", "{{.Names}} {{.State}}");
    const listed = ps.stdout.trim().split("\n").sort();
    expect(listed).toEqual(names.map((n) => `${n} running`).sort());
    for (const name of names) {
      expect((await docker("inspect", "-f", "{{.State.Pid}}", name)).stdout.trim()).toBe(String(pids.get(name)));
    }
    expect((await docker("logs", "survivor-7")).stdout).toBe("hello from survivor-7\n");
    expect((await docker("exec", "survivor-3", "echo", "still here")).stdout).toBe("still here\n");

    // A container that exits while the agent is down is settled when it comes back.
    const firstId = (await docker("inspect", "-f", "{{.Id}}", "survivor-0")).stdout.trim();
    await env.agent.kill();
    execFileSync("runc", ["--root", `${env.agent.execRoot}/runc`, "kill", firstId, "KILL"]);
    await new Promise((r) => setTimeout(r, 500));
    await env.agent.restart();
    const settled = await eventually(() => docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "survivor-0"), (x) => x.stdout.startsWith("exited"));
    expect(settled.stdout.trim()).toBe("exited 137");

    const stop = await docker("stop", ...names.slice(1));
    expect(stop.code).toBe(0);
    expect((await docker("ps", "-q")).stdout.trim()).toBe("");
    for (const [name, pid] of pids) if (name !== "survivor-0") expect(alive(pid)).toBe(false);
    expect((await docker("rm", ...names)).code).toBe(0);
  });

  it("after a host reboot, always and unless-stopped containers come back; no and stopped ones don't", async () => {
    const specs = [
      ["boot-always", "always"],
      ["boot-unless", "unless-stopped"],
      ["boot-unless-stopped", "unless-stopped"],
      ["boot-no", "no"],
    ] as const;
    for (const [name, policy] of specs) expect((await docker("run", "-d", "--name", name, "--restart", policy, env.image, "sleep", "120")).code).toBe(0);
    expect((await docker("stop", "-t", "1", "boot-unless-stopped")).code).toBe(0);
    const ids = new Map<string, string>();
    for (const [name] of specs) ids.set(name, (await docker("inspect", "-f", "{{.Id}}", name)).stdout.trim());

    // A reboot, as the agent sees it: every process gone, the tmpfs runtime state (exec root) empty.
    await env.agent.kill();
    for (const id of ids.values()) execFileSync("runc", ["--root", `${env.agent.execRoot}/runc`, "delete", "--force", id], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 300));
    execFileSync("sh", ["-c", `rm -rf ${env.agent.execRoot}/*`]);
    await env.agent.restart();

    const state = (name: string) => docker("inspect", "-f", "{{.State.Status}}", name);
    expect((await eventually(() => state("boot-always"), (r) => r.stdout.trim() === "running")).stdout.trim()).toBe("running");
    expect((await eventually(() => state("boot-unless"), (r) => r.stdout.trim() === "running")).stdout.trim()).toBe("running");
    expect((await state("boot-unless-stopped")).stdout.trim()).toBe("exited");
    expect((await state("boot-no")).stdout.trim()).toBe("exited");
    expect((await docker("exec", "boot-always", "echo", "back")).stdout).toBe("back\n");
    expect((await docker("rm", "-f", ...specs.map(([n]) => n))).code).toBe(0);
  });
});
