import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// What a container can see and use: namespaces, the default security
// profile, and resource limits enforced by the kernel.

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const cgroupV2 = async () => (await docker("info", "--format", "{{.CgroupVersion}}")).stdout.trim() === "2";

beforeAll(async () => {
  env = await startCompatEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("isolation", () => {
  it("has its own PID namespace, hostname and mounts", async () => {
    const r = await docker("run", "--rm", "--hostname", "box", env.image, "sh", "-c", "echo $$; hostname; cat /etc/hostname; ps -o pid,comm | wc -l; cat /proc/1/cmdline | tr '\\0' ' '");
    expect(r.code).toBe(0);
    const [pid, hostname, etcHostname, psLines, cmdline] = r.stdout.split("\n");
    expect(pid).toBe("1");
    expect(hostname).toBe("box");
    expect(etcHostname).toBe("box");
    // The header plus sh, ps, wc, cat... never the host's hundreds of processes.
    expect(Number(psLines)).toBeLessThan(8);
    expect(cmdline).toContain("sh -c");
    const mounts = await docker("run", "--rm", env.image, "cat", "/proc/self/mounts");
    expect(mounts.stdout).toMatch(/^overlay \/ overlay /m);
    // Only the container's own mounts: its root, the API filesystems, masks and the three /etc files.
    const points = mounts.stdout.trim().split("\n").map((l) => l.split(" ")[1]!);
    const allowed = /^(\/|\/proc(\/.*)?|\/dev(\/.*)?|\/sys(\/.*)?|\/etc\/(hosts|hostname|resolv\.conf))$/;
    expect(points.filter((p) => !allowed.test(p))).toEqual([]);
  });

  it("defaults the hostname to the short container id", async () => {
    const started = await docker("run", "-d", env.image, "sleep", "30");
    const id = started.stdout.trim();
    const r = await docker("exec", id, "hostname");
    expect(r.stdout.trim()).toBe(id.slice(0, 12));
    await docker("rm", "-f", id);
  });

  it("applies Docker's default security profile", async () => {
    // /proc/kcore is masked where the kernel has one; /proc/interrupts always exists.
    const r = await docker("run", "--rm", env.image, "sh", "-c", "if [ -e /proc/kcore ]; then wc -c < /proc/kcore; else wc -c < /proc/interrupts; fi; grep CapEff /proc/self/status; echo x 2>&1 > /proc/sys/kernel/domainname; echo; ls /dev");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("0"); // masked: /dev/null bound over it
    expect(lines[1]).toMatch(/^CapEff:\s+00000000a80425fb$/);
    expect(r.stdout).toMatch(/Read-only file system/);
    for (const dev of ["null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue"]) expect(r.stdout).toContain(dev);
    // Seccomp: unshare of a user namespace... is allowed by Docker; keyctl and mount are not.
    const mount = await docker("run", "--rm", env.image, "mount", "-t", "tmpfs", "none", "/mnt");
    expect(mount.code).not.toBe(0);
    const privileged = await docker("run", "--rm", "--privileged", env.image, "sh", "-c", "grep CapEff /proc/self/status; mkdir -p /mnt && mount -t tmpfs none /mnt && echo mounted");
    // Every capability the agent itself holds (a sandboxed host may lack some).
    const own = readFileSync("/proc/self/status", "utf8").match(/CapBnd:\s+([0-9a-f]+)/)![1];
    expect(privileged.stdout).toContain(`CapEff:\t${own}`);
    expect(privileged.stdout).toContain("mounted");
  });
});

describe("limits", () => {
  it("-m sets the memory limit, and going past it is OOM-killed", async () => {
    const file = (await cgroupV2()) ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes";
    const limit = await docker("run", "--rm", "-m", "32m", env.image, "cat", file);
    expect(limit.stdout.trim()).toBe(String(32 * 1024 * 1024));
    // The shell holds 100 MB in a variable: it can't fit in 32 MiB (swap off).
    const hog = await docker("run", "--name", "hog", "-m", "32m", "--memory-swap", "32m", env.image, "sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}");
    expect(hog.code).toBe(137);
    const state = await docker("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog");
    expect(state.stdout.trim()).toBe("true 137");
    await docker("rm", "hog");
  });

  it("--pids-limit stops a fork bomb", async () => {
    const dir = (await cgroupV2()) ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids";
    // After the bomb nothing can fork, so the counting uses shell builtins only.
    const script = `read max < ${dir}/pids.max; echo "max $max"; (for i in $(seq 1 40); do sleep 5 & done) 2>/tmp/err; read n < ${dir}/pids.current; echo "current $n"; while read l; do echo "err $l"; done < /tmp/err`;
    const r = await docker("run", "--rm", "--pids-limit", "20", env.image, "sh", "-c", script);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("max 20");
    const current = Number(lines[1]!.replace("current ", ""));
    expect(current).toBeGreaterThan(1);
    expect(current).toBeLessThanOrEqual(20);
    expect(lines.some((l) => /^err .*can't fork/i.test(l))).toBe(true);
  });

  it("--cpus sets the CFS quota; --cpu-shares and --cpuset-cpus are applied", async () => {
    const v2 = await cgroupV2();
    const quota = await docker("run", "--rm", "--cpus", "0.5", env.image, "cat", v2 ? "/sys/fs/cgroup/cpu.max" : "/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    expect(quota.stdout.trim()).toBe(v2 ? "50000 100000" : "50000");
    if (!v2) {
      const shares = await docker("run", "--rm", "--cpu-shares", "512", "--cpuset-cpus", "0", env.image, "sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpuset/cpuset.cpus");
      expect(shares.stdout).toBe("512\n0\n");
    }
  });

  it("--ulimit and --shm-size are visible inside", async () => {
    const r = await docker("run", "--rm", "--ulimit", "nofile=512:1024", "--shm-size", "16m", env.image, "sh", "-c", "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1");
    const [soft, hard, shm] = r.stdout.trim().split("\n");
    expect(soft).toBe("512");
    expect(hard).toBe("1024");
    expect(shm).toMatch(/^shm\s+16384\s/);
  });
});
