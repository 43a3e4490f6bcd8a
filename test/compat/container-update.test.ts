import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";

// docker update through the stock CLI: restart policy and resources saved in
// the container's record, applied at once to a running container's cgroup
// (read from inside it), kept for a stopped one's next start; what dockerd
// refuses is refused and changes nothing.

let env: CompatEnv;
let v2 = false;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const MIB = 1024 * 1024;
/** A cgroup file as the container sees it (its own cgroup namespace / mount). */
const cgroup = async (name: string, v1: string, v2file: string) => (await docker("exec", name, "cat", v2 ? `/sys/fs/cgroup/${v2file}` : `/sys/fs/cgroup/${v1}`)).stdout.trim();
const hostConfig = async (name: string) => JSON.parse((await docker("inspect", "-f", "{{json .HostConfig}}", name)).stdout) as Record<string, unknown> & { RestartPolicy: { Name: string; MaximumRetryCount: number } };

beforeAll(async () => {
  env = await startCompatEnv();
  v2 = (await docker("info", "--format", "{{.CgroupVersion}}")).stdout.trim() === "2";
});
afterAll(async () => {
  await env?.close();
});

describe("docker update", () => {
  it("changes a running container's restart policy and memory limit: saved, and in its cgroup at once", async () => {
    expect((await docker("run", "-d", "--name", "upd", "-m", "64m", env.image, "sleep", "600")).code).toBe(0);
    expect(await cgroup("upd", "memory/memory.limit_in_bytes", "memory.max")).toBe(String(64 * MIB));

    const r = await docker("update", "--restart", "always", "--memory", "96m", "upd");
    expect(r).toMatchObject({ code: 0, stdout: "upd\n" });
    expect(await cgroup("upd", "memory/memory.limit_in_bytes", "memory.max")).toBe(String(96 * MIB));
    const hc = await hostConfig("upd");
    expect(hc.RestartPolicy).toEqual({ Name: "always", MaximumRetryCount: 0 });
    // The swap limit dockerd set at create (2 × 64m) is what the new limit was held to, and it stays.
    expect(hc).toMatchObject({ Memory: 96 * MIB, MemorySwap: 128 * MIB });

    // The new policy is the one that acts: the process killed from the host comes back.
    const pid = Number((await docker("inspect", "-f", "{{.State.Pid}}", "upd")).stdout.trim());
    process.kill(pid, "SIGKILL");
    const back = await eventually(() => docker("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "upd"), (x) => x.stdout.trim() === "true 1", 100);
    expect(back.stdout.trim()).toBe("true 1");
    // And the restarted container still has the updated limit.
    expect(await cgroup("upd", "memory/memory.limit_in_bytes", "memory.max")).toBe(String(96 * MIB));
  });

  it("CPU and pids limits, and a reservation", async () => {
    expect((await docker("update", "--cpus", "0.5", "--pids-limit", "50", "--memory-reservation", "32m", "upd")).code).toBe(0);
    expect(await cgroup("upd", "cpu/cpu.cfs_quota_us", "cpu.max")).toBe(v2 ? "50000 100000" : "50000");
    expect(await cgroup("upd", "pids/pids.max", "pids.max")).toBe("50");
    expect(await cgroup("upd", "memory/memory.soft_limit_in_bytes", "memory.low")).toBe(String(32 * MIB));
    expect(await hostConfig("upd")).toMatchObject({ NanoCpus: 500_000_000, PidsLimit: 50, MemoryReservation: 32 * MIB });
    // -1 lifts the pids limit.
    expect((await docker("update", "--pids-limit", "-1", "upd")).code).toBe(0);
    expect(await cgroup("upd", "pids/pids.max", "pids.max")).toBe("max");
  });

  it("refuses what dockerd refuses, and nothing changes", async () => {
    const cases: [string[], string][] = [
      [["--memory", "512m"], "Cannot update container"],
      [["--memory", "1m", "--memory-swap", "2m"], "Minimum memory limit allowed is 6MB"],
      [["--cpu-period", "50000"], "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"],
      [["--memory-reservation", "200m"], "Minimum memory limit can not be less than memory reservation limit, see usage"],
      [["--restart", "on-failure:-2"], "maximum retry count cannot be negative"],
    ];
    for (const [args, message] of cases) {
      const r = await docker("update", ...args, "upd");
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr, args.join(" ")).toContain(message);
    }
    const swapFirst = await docker("update", "--memory", "512m", "upd");
    expect(swapFirst.stderr).toContain("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    expect(await hostConfig("upd")).toMatchObject({ Memory: 96 * MIB, MemorySwap: 128 * MIB, CpuPeriod: 0, MemoryReservation: 32 * MIB });
    expect(await cgroup("upd", "memory/memory.limit_in_bytes", "memory.max")).toBe(String(96 * MIB));

    // With the swap limit raised too, the bigger limit is fine.
    expect((await docker("update", "--memory", "512m", "--memory-swap", "1g", "upd")).code).toBe(0);
    expect(await cgroup("upd", "memory/memory.limit_in_bytes", "memory.max")).toBe(String(512 * MIB));

    const missing = await docker("update", "--memory", "64m", "nope");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("No such container: nope");

    expect((await docker("run", "-d", "--rm", "--name", "once", env.image, "sleep", "600")).code).toBe(0);
    const autoRemove = await docker("update", "--restart", "always", "once");
    expect(autoRemove.code).not.toBe(0);
    expect(autoRemove.stderr).toContain("Restart policy cannot be updated because AutoRemove is enabled for the container");
    expect((await hostConfig("once")).RestartPolicy.Name).toBe("no");
    await docker("rm", "-f", "once", "upd");
  });

  it("a created container keeps what an update set for its start; blkio weight as the host allows", async () => {
    await docker("create", "--name", "later", "-m", "64m", env.image, "sleep", "600");
    expect((await docker("update", "--memory", "80m", "--memory-swap", "160m", "--restart", "unless-stopped", "later")).code).toBe(0);
    expect((await docker("start", "later")).code).toBe(0);
    expect(await cgroup("later", "memory/memory.limit_in_bytes", "memory.max")).toBe(String(80 * MIB));
    expect((await hostConfig("later")).RestartPolicy.Name).toBe("unless-stopped");

    // dockerd discards a weight the host's cgroups can't apply, with a warning.
    const weighable = v2 ? true : existsSync("/sys/fs/cgroup/blkio/blkio.weight") || existsSync("/sys/fs/cgroup/blkio/blkio.bfq.weight");
    const weight = await docker("update", "--blkio-weight", "300", "later");
    expect(weight.code).toBe(0);
    if (weighable) expect(await cgroup("later", "blkio/blkio.weight", "io.weight")).toContain("300");
    else expect(weight.stdout).toBe("later\nYour kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n");
    await docker("rm", "-f", "later");
  });
});
