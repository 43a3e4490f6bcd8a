import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";

// The stock docker CLI against a fresh agent: the everyday commands, each
// checked by what the CLI printed and its exit code.

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args);

beforeAll(async () => {
  env = await startCompatEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("docker CLI against the agent", () => {
  it("docker version and docker info talk to the agent", async () => {
    const version = await docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}");
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe("0.1.0 1.43 linux");
    const info = await docker("info", "--format", "{{.Driver}} {{.CgroupDriver}} {{.Images}} {{.OSType}}");
    expect(info.code).toBe(0);
    expect(info.stdout.trim()).toBe("overlay2 cgroupfs 1 linux");
  });

  it("run --rm prints the output and passes the exit code through", async () => {
    const hi = await docker("run", "--rm", env.image, "echo", "hi");
    expect(hi).toMatchObject({ code: 0, stdout: "hi\n" });
    const three = await docker("run", "--rm", env.image, "sh", "-c", "exit 3");
    expect(three.code).toBe(3);
    const missing = await docker("run", "--rm", env.image, "no-such-command");
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('exec: "no-such-command": executable file not found in $PATH');
    const stderr = await docker("run", "--rm", env.image, "sh", "-c", "echo out; echo err >&2");
    expect(stderr.stdout).toBe("out\n");
    expect(stderr.stderr).toBe("err\n");
    // --rm leaves nothing behind.
    const all = await docker("ps", "-a", "-q");
    expect(all.stdout.trim()).toBe("");
  });

  it("merges the image config with the request as Docker does", async () => {
    const r = await docker("run", "--rm", "-e", "EXTRA=1", env.image, "sh", "-c", 'pwd; echo "$IMAGE_VAR $EXTRA"; echo "$PATH"');
    expect(r.stdout).toBe("/srv\nfrom-image 1\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    const user = await docker("run", "--rm", "--user", "nobody", "-w", "/tmp", env.image, "sh", "-c", "id -u; id -g; pwd");
    expect(user.stdout).toBe("65534\n65534\n/tmp\n");
    const entry = await docker("run", "--rm", "--entrypoint", "echo", env.image, "from", "entrypoint");
    expect(entry.stdout).toBe("from entrypoint\n");
    const unknownUser = await docker("run", "--rm", "--user", "ghost", env.image, "true");
    expect(unknownUser.code).not.toBe(0);
    expect(unknownUser.stderr).toContain("unable to find user ghost");
  });

  it("runs a detached container through its whole lifecycle", async () => {
    const started = await docker("run", "-d", "--name", "web", "--label", "tier=front", env.image, "sh", "-c", "echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.2; done");
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);

    const ps = await docker("ps", "--format", "{{.Names}} {{.Image}} {{.Label \"tier\"}}");
    expect(ps.stdout.trim()).toBe(`web ${env.image} front`);
    const inspect = await docker("inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Name}} {{.Config.WorkingDir}}", "web");
    expect(inspect.stdout.trim()).toBe("running true /web /srv");

    const logs = await eventually(() => docker("logs", "web"), (r) => r.stdout.includes("started"));
    expect(logs.stdout).toBe("started\n");

    const exec = await docker("exec", "web", "echo", "ok");
    expect(exec).toMatchObject({ code: 0, stdout: "ok\n" });
    const execCode = await docker("exec", "web", "sh", "-c", "exit 5");
    expect(execCode.code).toBe(5);
    const execMissing = await docker("exec", "web", "no-such-command");
    expect(execMissing.code).toBe(127);
    const execEnv = await docker("exec", "-e", "X=y", "-w", "/", "web", "sh", "-c", 'echo "$X $(pwd) $IMAGE_VAR"');
    expect(execEnv.stdout).toBe("y / from-image\n");

    const top = await docker("top", "web");
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("while true");

    const paused = await docker("pause", "web");
    expect(paused.code).toBe(0);
    expect((await docker("inspect", "-f", "{{.State.Status}}", "web")).stdout.trim()).toBe("paused");
    expect((await docker("exec", "web", "true")).code).not.toBe(0);
    expect((await docker("unpause", "web")).code).toBe(0);
    expect((await docker("inspect", "-f", "{{.State.Status}}", "web")).stdout.trim()).toBe("running");

    // stop: the trap runs (SIGTERM), the exit code is the script's.
    const stop = await docker("stop", "web");
    expect(stop).toMatchObject({ code: 0, stdout: "web\n" });
    expect((await docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web")).stdout.trim()).toBe("exited 0");
    expect((await docker("logs", "web")).stdout).toBe("started\nbye\n");

    expect((await docker("start", "web")).code).toBe(0);
    expect((await docker("inspect", "-f", "{{.State.Status}}", "web")).stdout.trim()).toBe("running");
    const pidBefore = (await docker("inspect", "-f", "{{.State.Pid}}", "web")).stdout.trim();
    expect((await docker("restart", "-t", "5", "web")).code).toBe(0);
    const pidAfter = (await docker("inspect", "-f", "{{.State.Pid}} {{.State.Status}}", "web")).stdout.trim();
    expect(pidAfter).toMatch(/ running$/);
    expect(pidAfter.split(" ")[0]).not.toBe(pidBefore);

    const kill = await docker("kill", "web");
    expect(kill.code).toBe(0);
    const killed = await eventually(() => docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web"), (r) => r.stdout.startsWith("exited"));
    expect(killed.stdout.trim()).toBe("exited 137");
    const killStopped = await docker("kill", "web");
    expect(killStopped.code).not.toBe(0);
    expect(killStopped.stderr).toContain("is not running");

    expect((await docker("start", "web")).code).toBe(0);
    const rmRunning = await docker("rm", "web");
    expect(rmRunning.code).not.toBe(0);
    expect(rmRunning.stderr).toContain("Stop the container before attempting removal or force remove");
    const rm = await docker("rm", "-f", "web");
    expect(rm).toMatchObject({ code: 0, stdout: "web\n" });
    expect((await docker("ps", "-a", "-q")).stdout.trim()).toBe("");
    expect((await docker("inspect", "web")).code).not.toBe(0);
  });

  it("logs -f follows until the container exits; --tail and --timestamps work", async () => {
    const started = await docker("run", "-d", "--name", "counter", env.image, "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done");
    expect(started.code).toBe(0);
    const follow = await env.agent.docker(["logs", "-f", "counter"], { timeoutMs: 30_000 });
    expect(follow).toMatchObject({ code: 0, stdout: "line1\nline2\nline3\nline4\nline5\n" });
    const tail = await docker("logs", "--tail", "2", "counter");
    expect(tail.stdout).toBe("line4\nline5\n");
    const stamped = await docker("logs", "-t", "--tail", "1", "counter");
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line5\n$/);
    // --since/--until take the timestamps the log carries.
    const all = (await docker("logs", "-t", "counter")).stdout.trim().split("\n");
    const third = all[2]!.split(" ")[0]!;
    expect((await docker("logs", "--since", third, "counter")).stdout).toBe("line3\nline4\nline5\n");
    expect((await docker("logs", "--until", third, "counter")).stdout).toBe("line1\nline2\nline3\n");
    expect((await docker("rm", "counter")).code).toBe(0);
  });

  it("run -i feeds stdin to the container; run -it gets a terminal", async () => {
    const piped = await env.agent.docker(["run", "--rm", "-i", env.image, "sh", "-c", "cat; echo done"], { input: "from stdin\n", timeoutMs: 30_000 });
    expect(piped).toMatchObject({ code: 0, stdout: "from stdin\ndone\n" });
    const tty = await env.agent.dockerTty(`docker run --rm -it ${env.image} sh -c 'tty; echo in-a-tty'`, { timeoutMs: 30_000 });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\/dev\/pts\/0\r\nin-a-tty\r\n/);
  });

  it("exec -it runs through a real pty", async () => {
    expect((await docker("run", "-d", "--name", "shell", env.image, "sleep", "60")).code).toBe(0);
    // script(1) gives the docker CLI a terminal, as a user's shell would.
    const r = await env.agent.dockerTty("docker exec -it shell sh -c 'tty; echo interactive'", { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain("interactive");
    // The terminal's size reaches the container's pty, for exec and for run -it.
    const sized = await env.agent.dockerTty("stty rows 30 cols 100; docker exec -it shell busybox stty size", { timeoutMs: 30_000 });
    expect(sized.stdout).toContain("30 100");
    const runSized = await env.agent.dockerTty(`stty rows 33 cols 101; docker run --rm -it ${env.image} busybox stty size`, { timeoutMs: 30_000 });
    expect(runSized.stdout).toContain("33 101");
    const missing = await env.agent.dockerTty("docker exec -it shell no-such-command", { timeoutMs: 30_000 });
    expect(missing.code).toBe(127);
    expect((await docker("rm", "-f", "shell")).code).toBe(0);
  });

  it("docker attach follows a running container's output and exits with its code", async () => {
    await docker("run", "-d", "--name", "ticker", env.image, "sh", "-c", "sleep 0.5; for i in 1 2 3; do echo tick$i; sleep 0.2; done; exit 4");
    const attached = await env.agent.docker(["attach", "--no-stdin", "ticker"], { timeoutMs: 30_000 });
    expect(attached).toMatchObject({ code: 4, stdout: "tick1\ntick2\ntick3\n" });
    expect((await docker("rm", "ticker")).code).toBe(0);
  });
});

describe("observing containers", () => {
  it("stats, events, rename and wait", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = (await docker("run", "-d", "--name", "busy", "-m", "64m", env.image, "sh", "-c", "while true; do :; done")).stdout.trim();
    const stats = await env.agent.docker(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}} {{.CPUPerc}}", "busy"], { timeoutMs: 30_000 });
    expect(stats.code).toBe(0);
    const [name, usage, , limit, pids, cpu] = stats.stdout.trim().split(/\s+/);
    expect(name).toBe("busy");
    expect(usage).toMatch(/^[\d.]+(B|KiB|MiB)$/);
    expect(limit).toBe("64MiB");
    expect(Number(pids)).toBeGreaterThanOrEqual(1);
    // A busy loop shows real CPU use, read from the cgroup.
    expect(Number(cpu!.replace("%", ""))).toBeGreaterThan(5);

    expect((await docker("rename", "busy", "spinner")).code).toBe(0);
    expect((await docker("inspect", "-f", "{{.Name}}", id)).stdout.trim()).toBe("/spinner");

    const waiting = env.agent.docker(["wait", "spinner"], { timeoutMs: 30_000 });
    await docker("kill", "-s", "TERM", "spinner");
    await docker("kill", "spinner").catch(() => undefined);
    expect((await waiting).stdout.trim()).toMatch(/^(137|143)$/);

    const until = Math.floor(Date.now() / 1000) + 1;
    const events = await docker("events", "--since", String(since), "--until", String(until), "--filter", `container=${id}`, "--format", "{{.Action}}");
    const actions = events.stdout.trim().split("\n");
    expect(actions.slice(0, 2)).toEqual(["create", "start"]);
    expect(actions).toContain("rename");
    expect(actions).toContain("kill");
    expect(actions).toContain("die");
    await docker("rm", "spinner");
  });
});

describe("raw API clients", () => {
  it("exec start whose JSON body arrives after the headers still gets stdin", async () => {
    const run = await docker("run", "-d", "--name", "stdin-late", env.image, "sleep", "600");
    expect(run.code).toBe(0);
    const created = await env.agent.request("POST", "/v1.43/containers/stdin-late/exec", JSON.stringify({ Cmd: ["sh"], AttachStdin: true, AttachStdout: true, Tty: false }), { "content-type": "application/json" });
    const execId = (JSON.parse(created.body) as { Id: string }).Id;
    const { createConnection } = await import("node:net");
    const socket = createConnection(env.agent.socket);
    let output = "";
    socket.on("data", (d: Buffer) => (output += d.toString("latin1")));
    await new Promise((r) => socket.once("connect", r));
    const body = JSON.stringify({ Detach: false, Tty: false });
    // Headers first; the body and then stdin in later writes, as some clients send them.
    socket.write(`POST /v1.43/exec/${execId}/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body);
    await eventually(async () => output, (o) => o.includes("101 UPGRADED"));
    socket.write("echo late-$((40+2))\nexit\n");
    const seen = await eventually(async () => output, (o) => o.includes("late-42"));
    socket.destroy();
    expect(seen).toContain("late-42");
    await docker("rm", "-f", "stdin-late");
  });
});
