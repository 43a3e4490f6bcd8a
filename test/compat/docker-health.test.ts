import { readdir, writeFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";

// Health checks driven by the stock docker CLI against a real agent: probes
// run as execs in the container on the check's schedule, and what a user
// sees is State.Health in inspect, the health in `docker ps`, the `health`
// filter and health_status events. A Dockerfile HEALTHCHECK builds into the
// image and runs; --no-healthcheck turns it off; the probes outlive a
// kill -9 of the agent.

let env: CompatEnv;
let work: string;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 120_000, env: { DOCKER_BUILDKIT: "0" } });
const health = async (name: string) => JSON.parse((await docker("inspect", "-f", "{{json .State.Health}}", name)).stdout) as { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] } | null;
const status = async (name: string) => (await health(name))?.Status;
const psStatus = async (name: string) => (await docker("ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Status}}")).stdout.trim();
const names = async (...filters: string[]) => (await docker("ps", "-a", ...filters.flatMap((f) => ["--filter", f]), "--format", "{{.Names}}")).stdout.trim().split("\n").filter(Boolean).sort();

/** A probe that succeeds `n` times, then fails (its count is kept in the container's /tmp/n). */
const succeedsThenFails = (n: number) => `c=$(cat /tmp/n 2>/dev/null || echo 0); c=$((c+1)); echo $c > /tmp/n; echo probe $c; [ $c -le ${n} ]`;

beforeAll(async () => {
  env = await startCompatEnv();
  work = await mkdtemp(path.join(os.tmpdir(), "berth-health-"));
});
afterAll(async () => {
  await env?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("health checks from docker run", () => {
  it("a probe that fails after 3 successes: starting → healthy → unhealthy with the streak, the log, ps and events", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const run = await docker("run", "-d", "--name", "flaky", "--health-cmd", succeedsThenFails(3), "--health-interval", "1s", "--health-retries", "2", env.image, "sleep", "600");
    expect(run.code).toBe(0);
    const id = run.stdout.trim();

    const healthy = await eventually(() => health("flaky"), (h) => h?.Status === "healthy");
    expect(healthy).toMatchObject({ Status: "healthy", FailingStreak: 0 });
    expect(healthy!.Log[0]).toMatchObject({ ExitCode: 0, Output: "probe 1\n" });
    expect(await psStatus("flaky")).toMatch(/^Up .* \(healthy\)$/);
    expect(await names("health=healthy")).toEqual(["flaky"]);

    const unhealthy = await eventually(() => health("flaky"), (h) => h?.Status === "unhealthy");
    // Two failures in a row (--health-retries 2): unhealthy, with the streak; the log holds the last (at most 5) probes.
    expect(unhealthy).toMatchObject({ Status: "unhealthy", FailingStreak: 2 });
    expect(unhealthy!.Log.map((r) => [r.ExitCode, r.Output])).toEqual([
      [0, "probe 1\n"],
      [0, "probe 2\n"],
      [0, "probe 3\n"],
      [1, "probe 4\n"],
      [1, "probe 5\n"],
    ]);
    for (const r of unhealthy!.Log) expect(Date.parse(r.End)).toBeGreaterThanOrEqual(Date.parse(r.Start));
    expect(await psStatus("flaky")).toMatch(/^Up .* \(unhealthy\)$/);
    expect(await names("health=unhealthy")).toEqual(["flaky"]);
    expect(await names("health=healthy")).toEqual([]);

    // Older results roll off; the streak keeps counting.
    const later = await eventually(() => health("flaky"), (h) => (h?.FailingStreak ?? 0) >= 4);
    expect(later!.Log).toHaveLength(5);
    expect(later!.Log[0]!.Output).not.toBe("probe 1\n");

    // The transitions, as docker events shows them ("health_status" matches "health_status: …").
    const until = (Date.now() / 1000 + 0.5).toFixed(3);
    const events = await docker("events", "--since", since, "--until", until, "--filter", `container=${id}`, "--filter", "event=health_status", "--format", "{{.Action}} {{.Actor.Attributes.name}}");
    expect(events.stdout.trim().split("\n")).toEqual(["health_status: healthy flaky", "health_status: unhealthy flaky"]);
    expect((await docker("rm", "-f", "flaky")).code).toBe(0);
  });

  it("before its first probe a container is starting; without a check its health is none", async () => {
    await docker("run", "-d", "--name", "slowcheck", "--health-cmd", "true", "--health-interval", "1h", env.image, "sleep", "600");
    await docker("run", "-d", "--name", "nocheck", env.image, "sleep", "600");
    expect(await health("slowcheck")).toEqual({ Status: "starting", FailingStreak: 0, Log: [] });
    expect(await psStatus("slowcheck")).toMatch(/^Up .* \(health: starting\)$/);
    expect(await names("health=starting")).toEqual(["slowcheck"]);
    expect(await health("nocheck")).toBeNull();
    expect(await psStatus("nocheck")).toMatch(/^Up (Less than a second|\d+ seconds?)$/);
    expect(await names("health=none")).toEqual(["nocheck"]);
    const bad = await docker("ps", "--filter", "health=sick");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("Unrecognised filter value for health: sick");
    await docker("rm", "-f", "slowcheck", "nocheck");
  });

  it("a probe past --health-timeout is killed and fails with dockerd's message", async () => {
    await docker("run", "-d", "--name", "hangs", "--health-cmd", "echo started; sleep 30", "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "1", env.image, "sleep", "600");
    const h = await eventually(() => health("hangs"), (x) => x?.Status === "unhealthy");
    expect(h).toMatchObject({ Status: "unhealthy", FailingStreak: 1 });
    expect(h!.Log[0]).toMatchObject({ ExitCode: -1, Output: "Health check exceeded timeout (1s): started\n" });
    // The timed-out probes were killed in the container, not left behind: only the container's own sleep remains.
    const top = await eventually(
      () => docker("top", "hangs"),
      (t) => !t.stdout.includes("sleep 30"),
    );
    expect(top.stdout).not.toContain("sleep 30");
    await docker("rm", "-f", "hangs");
  });

  it("a probe that can't start fails with the runtime's message; a CMD probe runs without a shell", async () => {
    await docker("run", "-d", "--name", "nocmd", "--health-cmd", "x", "--health-interval", "1s", "--health-retries", "1", env.image, "sleep", "600");
    // --health-cmd is shell form (CMD-SHELL): "sh: x: not found", exit 127.
    const shell = await eventually(() => health("nocmd"), (x) => x?.Status === "unhealthy");
    expect(shell!.Log[0]).toMatchObject({ ExitCode: 127 });
    expect(shell!.Log[0]!.Output).toContain("x: not found");
    await docker("rm", "-f", "nocmd");

    // Exec form through the API (what compose sends for `test: ["CMD", …]`): no shell, so a missing binary fails to start.
    const created = await env.agent.request("POST", "/v1.43/containers/create?name=execform", JSON.stringify({ Image: env.image, Cmd: ["sleep", "600"], Healthcheck: { Test: ["CMD", "/no/such/check"], Interval: 1e9, Retries: 1 } }));
    expect(created.status).toBe(201);
    expect((await docker("start", "execform")).code).toBe(0);
    const exec = await eventually(() => health("execform"), (x) => x?.Status === "unhealthy");
    expect(exec!.Log[0]).toMatchObject({ ExitCode: -1 });
    expect(exec!.Log[0]!.Output).toMatch(/^OCI runtime exec failed: .*no such file or directory/);
    await docker("rm", "-f", "execform");
  });

  it("failures within the start period don't count while starting; a success ends it", async () => {
    // StartInterval (API 1.44) goes through the API: the CLI only sends it to daemons that speak 1.44.
    const body = {
      Image: env.image,
      Cmd: ["sleep", "600"],
            // Probes every second while starting within the hour-long start period, every 2 s once it isn't starting.
      Healthcheck: { Test: ["CMD-SHELL", "c=$(cat /tmp/n 2>/dev/null || echo 0); c=$((c+1)); echo $c > /tmp/n; [ $c -eq 3 ]"], Interval: 2e9, StartPeriod: 3600e9, StartInterval: 1e9, Retries: 1 },
    };
    expect((await env.agent.request("POST", "/v1.43/containers/create?name=warming", JSON.stringify(body))).status).toBe(201);
    expect((await docker("start", "warming")).code).toBe(0);
    const two = await eventually(() => health("warming"), (x) => (x?.Log.length ?? 0) >= 2);
    // Two failures, and it is still starting with no streak (retries is 1).
    expect(two).toMatchObject({ Status: "starting", FailingStreak: 0 });
    expect(two!.Log.slice(0, 2).map((r) => r.ExitCode)).toEqual([1, 1]);
    // The third succeeds: healthy; the fourth fails, and counts now: unhealthy.
    const done = await eventually(() => health("warming"), (x) => (x?.Log.length ?? 0) >= 4);
    expect(done!.Log.slice(0, 4).map((r) => r.ExitCode)).toEqual([1, 1, 0, 1]);
    expect(done).toMatchObject({ Status: "unhealthy", FailingStreak: 1 });
    await docker("rm", "-f", "warming");
  });

  it("probes stop while paused or stopped and start again with unpause and start; probes aren't execs", async () => {
    await docker("run", "-d", "--name", "cycle", "--health-cmd", "echo ok", "--health-interval", "1s", env.image, "sleep", "600");
    await eventually(() => status("cycle"), (s) => s === "healthy");
    // Probes are not docker exec sessions: inspect lists none, ever.
    for (let i = 0; i < 5; i++) expect((await docker("inspect", "-f", "{{json .ExecIDs}}", "cycle")).stdout.trim()).toBe("null");

    // Paused: no probes; dockerd calls it unhealthy until a probe after unpause says otherwise.
    expect((await docker("pause", "cycle")).code).toBe(0);
    const paused = await health("cycle");
    expect(paused!.Status).toBe("unhealthy");
    await new Promise((r) => setTimeout(r, 2500));
    expect((await health("cycle"))!.Log).toEqual(paused!.Log);
    expect((await docker("unpause", "cycle")).code).toBe(0);
    await eventually(() => status("cycle"), (s) => s === "healthy");

    // Stopped: unhealthy, the log kept, no more probes; started again: probed again.
    expect((await docker("stop", "-t", "0", "cycle")).code).toBe(0);
    const stopped = await health("cycle");
    expect(stopped!.Status).toBe("unhealthy");
    await new Promise((r) => setTimeout(r, 2500));
    expect((await health("cycle"))!.Log).toEqual(stopped!.Log);
    expect(await psStatus("cycle")).toMatch(/^Exited \(137\)/);
    expect((await docker("start", "cycle")).code).toBe(0);
    await eventually(() => status("cycle"), (s) => s === "healthy");
    await docker("rm", "-f", "cycle");
    // Nothing of the probes is left in the agent's exec state.
    expect(await readdir(path.join(env.agent.execRoot, "exec")).catch(() => [])).toEqual([]);
  });

  it("start and restart begin the check afresh: starting, no streak; stop and pause leave it unhealthy", async () => {
    // An hour between probes: nothing but start, stop and restart changes the health here.
    await docker("run", "-d", "--name", "fresh", "--health-cmd", "true", "--health-interval", "1h", env.image, "sleep", "600");
    expect(await status("fresh")).toBe("starting");
    expect((await docker("stop", "-t", "0", "fresh")).code).toBe(0);
    expect(await status("fresh")).toBe("unhealthy");
    expect(await names("health=unhealthy")).toEqual(["fresh"]);
    expect((await docker("start", "fresh")).code).toBe(0);
    expect(await health("fresh")).toEqual({ Status: "starting", FailingStreak: 0, Log: [] });
    expect((await docker("pause", "fresh")).code).toBe(0);
    expect(await psStatus("fresh")).toMatch(/^Up .* \(Paused\)$/);
    expect((await docker("unpause", "fresh")).code).toBe(0);
    // Unpaused, it stays unhealthy until a probe says otherwise (dockerd's rule).
    expect(await status("fresh")).toBe("unhealthy");
    expect((await docker("restart", "-t", "0", "fresh")).code).toBe(0);
    expect(await status("fresh")).toBe("starting");
    await docker("rm", "-f", "fresh");
  });

  it("keeps probing after the agent is killed with SIGKILL and restarted", async () => {
    await docker("run", "-d", "--name", "survivor", "--health-cmd", succeedsThenFails(4), "--health-interval", "1s", "--health-retries", "2", env.image, "sleep", "600");
    const before = await eventually(() => health("survivor"), (h) => h?.Status === "healthy");
    expect(before!.Status).toBe("healthy");
    await env.agent.kill();
    const restartedAt = Date.now();
    await env.agent.restart();
    // The health is as the agent left it (kept in the container's record), not reset to starting.
    expect(await status("survivor")).toMatch(/^(healthy|unhealthy)$/);
    // And the probes carry on: the count goes past 4, so it turns unhealthy.
    const after = await eventually(() => health("survivor"), (h) => h?.Status === "unhealthy");
    expect(after).toMatchObject({ Status: "unhealthy", FailingStreak: 2 });
    expect(after!.Log.at(-1)!.Output).toBe("probe 6\n");
    expect(Date.parse(after!.Log.at(-1)!.Start)).toBeGreaterThanOrEqual(restartedAt);
    await docker("rm", "-f", "survivor");
  });
});

describe("health checks from the image", () => {
  it("a Dockerfile HEALTHCHECK builds into the image config and runs; --no-healthcheck turns it off", async () => {
    const context = path.join(work, "hc");
    await import("node:fs/promises").then((fs) => fs.mkdir(context, { recursive: true }));
    await writeFile(
      path.join(context, "Dockerfile"),
      [
        `FROM ${env.image}`,
        "HEALTHCHECK --interval=1s --timeout=1m30s --start-period=2s --start-interval=500ms --retries=4 CMD test -e /srv/hello.txt && echo fine",
        // The RUN step's temporary container is not health-checked.
        "RUN sleep 3",
        'CMD ["sleep", "600"]',
      ].join("\n"),
    );
    const since = (Date.now() / 1000).toFixed(3);
    const built = await docker("build", "-t", "health/app:1", context);
    expect(built.code, built.stderr).toBe(0);
    const config = JSON.parse((await docker("image", "inspect", "-f", "{{json .Config.Healthcheck}}", "health/app:1")).stdout);
    expect(config).toEqual({ Test: ["CMD-SHELL", "test -e /srv/hello.txt && echo fine"], Interval: 1e9, Timeout: 90e9, StartPeriod: 2e9, StartInterval: 5e8, Retries: 4 });
    const during = await docker("events", "--since", since, "--until", (Date.now() / 1000).toFixed(3), "--filter", "event=health_status", "--format", "{{.Actor.ID}}");
    expect(during.stdout.trim()).toBe("");

    await docker("run", "-d", "--name", "from-image", "health/app:1");
    const h = await eventually(() => health("from-image"), (x) => x?.Status === "healthy");
    expect(h!.Log[0]).toMatchObject({ ExitCode: 0, Output: "fine\n" });
    expect(JSON.parse((await docker("inspect", "-f", "{{json .Config.Healthcheck}}", "from-image")).stdout)).toEqual(config);

    // The request's fields win over the image's, field by field.
    await docker("run", "-d", "--name", "overridden", "--health-cmd", "echo mine", "--health-retries", "7", "health/app:1");
    expect(JSON.parse((await docker("inspect", "-f", "{{json .Config.Healthcheck}}", "overridden")).stdout)).toEqual({ ...config, Test: ["CMD-SHELL", "echo mine"], Retries: 7 });
    const mine = await eventually(() => health("overridden"), (x) => x?.Status === "healthy");
    expect(mine!.Log[0]!.Output).toBe("mine\n");

    await docker("run", "-d", "--name", "unchecked", "--no-healthcheck", "health/app:1");
    // As dockerd merges it: the request's Test, the image's other fields (which NONE leaves unused).
    expect(JSON.parse((await docker("inspect", "-f", "{{json .Config.Healthcheck}}", "unchecked")).stdout)).toEqual({ ...config, Test: ["NONE"] });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await health("unchecked")).toBeNull();
    expect(await psStatus("unchecked")).not.toContain("health");
    await docker("rm", "-f", "from-image", "overridden", "unchecked");
  });
});
