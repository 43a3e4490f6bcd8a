import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, eventually, startCompatEnv } from "../fixtures/compat-env";

// docker events and docker wait as dockerd answers them, driven by the stock
// CLI (and raw API calls where the CLI can't say it): event filters with
// dockerd's matching rules (labels all must match, as docker-compose relies
// on), since/until replays, the network and volume events with their Actor
// attributes; and the wait conditions not-running, next-exit and removed
// (`docker run` and `docker run --rm` wait on the last two).

let env: CompatEnv;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });
const now = () => (Date.now() / 1000).toFixed(3);
/** The events between `since` and now, one formatted line each. */
const eventsSince = async (since: string, format: string, ...filters: string[]) => {
  const r = await docker("events", "--since", since, "--until", now(), ...filters.flatMap((f) => ["--filter", f]), "--format", format);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").filter(Boolean);
};

beforeAll(async () => {
  env = await startCompatEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("docker events", () => {
  it("label filters must all match; container and image filters match as dockerd's do", async () => {
    const since = now();
    await docker("run", "-d", "--name", "both", "--label", "app=shop", "--label", "tier=web", env.image, "sleep", "600");
    await docker("run", "-d", "--name", "one", "--label", "app=shop", env.image, "sleep", "600");
    // docker-compose asks for its project's containers with two labels at once: both must match.
    expect(await eventsSince(since, "{{.Actor.Attributes.name}} {{.Action}}", "label=app=shop", "label=tier=web")).toEqual(["both create", "both start"]);
    // A label key alone matches any value.
    expect(await eventsSince(since, "{{.Actor.Attributes.name}} {{.Action}}", "label=tier", "event=start")).toEqual(["both start"]);
    // Alternatives of one key: either.
    expect(await eventsSince(since, "{{.Actor.Attributes.name}}", "container=both", "container=one", "event=start")).toEqual(["both", "one"]);
    // An image filter matches the container's image with or without its tag.
    const repository = env.image.replace(/:latest$/, "");
    expect(await eventsSince(since, "{{.Actor.Attributes.name}}", `image=${repository}`, "event=create")).toEqual(["both", "one"]);
    expect(await eventsSince(since, "{{.Actor.Attributes.name}}", `image=${env.image}`, "event=create")).toEqual(["both", "one"]);
    await docker("rm", "-f", "both", "one");
  });

  it("--until alone replays what happened before it; since after until is refused", async () => {
    await docker("run", "-d", "--name", "past", env.image, "true");
    await eventually(() => docker("inspect", "-f", "{{.State.Status}}", "past"), (r) => r.stdout.trim() === "exited");
    const r = await docker("events", "--until", now(), "--filter", "container=past", "--format", "{{.Action}}");
    expect(r.stdout.trim().split("\n")).toEqual(["create", "start", "die"]);
    const bad = await env.agent.request("GET", "/v1.43/events?since=200&until=100");
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("`since` time (200) cannot be after `until` time (100)");
    expect((await env.agent.request("GET", "/v1.43/events?since=yesterday")).status).toBe(400);
    await docker("rm", "past");
  });

  it("a stream with an until in the future follows new events until then", async () => {
    const until = (Date.now() / 1000 + 4).toFixed(3);
    const following = docker("events", "--since", now(), "--until", until, "--filter", "container=later", "--format", "{{.Action}}");
    await new Promise((r) => setTimeout(r, 300));
    await docker("run", "-d", "--name", "later", env.image, "true");
    const r = await following;
    expect(r.stdout.trim().split("\n")).toEqual(["create", "start", "die"]);
    await docker("rm", "later");

    // An until further away than a timer can count (2^31 ms): the stream stays open (the CLI is stopped by the test).
    const farAway = String(Math.floor(Date.now() / 1000) + 60 * 86_400);
    const open = env.agent.docker(["events", "--until", farAway, "--filter", "container=farther", "--format", "{{.Action}}"], { timeoutMs: 4_000 });
    await new Promise((r) => setTimeout(r, 300));
    await docker("run", "-d", "--name", "farther", env.image, "true");
    const stream = await open;
    expect(stream.stdout.trim().split("\n").slice(0, 3)).toEqual(["create", "start", "die"]);
    await docker("rm", "farther");
  });

  it("networks and volumes report create, connect/mount, disconnect/unmount and destroy with their attributes", async () => {
    const since = now();
    expect((await docker("network", "create", "evnet")).code).toBe(0);
    expect((await docker("volume", "create", "evvol")).code).toBe(0);
    const id = (await docker("run", "-d", "--name", "evc", "--network", "evnet", "-v", "evvol:/data", "-v", "implicit:/other:ro", env.image, "sleep", "600")).stdout.trim();
    expect((await docker("rm", "-f", "evc")).code).toBe(0);
    expect((await docker("network", "rm", "evnet")).code).toBe(0);
    expect((await docker("volume", "rm", "evvol", "implicit")).code).toBe(0);

    const seen = async (type: string) =>
      (await eventsSince(since, "{{.Action}}|{{.Actor.ID}}|{{json .Actor.Attributes}}", `type=${type}`)).map((line) => {
        const [action, actor, attributes] = line.split("|");
        return { action, actor, attributes: JSON.parse(attributes!) as Record<string, string> };
      });
    const net = await seen("network");
    const netId = net[0]!.actor;
    const evnet = { name: "evnet", type: "bridge" };
    expect(net).toEqual([
      { action: "create", actor: netId, attributes: evnet },
      { action: "connect", actor: netId, attributes: { ...evnet, container: id } },
      { action: "disconnect", actor: netId, attributes: { ...evnet, container: id } },
      { action: "destroy", actor: netId, attributes: evnet },
    ]);
    expect(netId).toMatch(/^[0-9a-f]{64}$/);
    const local = { driver: "local" };
    expect(await seen("volume")).toEqual([
      { action: "create", actor: "evvol", attributes: local },
      { action: "create", actor: "implicit", attributes: local },
      { action: "mount", actor: "evvol", attributes: { ...local, container: id, destination: "/data", propagation: "", "read/write": "true" } },
      { action: "mount", actor: "implicit", attributes: { ...local, container: id, destination: "/other", propagation: "", "read/write": "false" } },
      { action: "unmount", actor: "evvol", attributes: { ...local, container: id } },
      { action: "unmount", actor: "implicit", attributes: { ...local, container: id } },
      { action: "destroy", actor: "evvol", attributes: local },
      { action: "destroy", actor: "implicit", attributes: local },
    ]);
    // Filtered by the volume's or the network's name; a container filter leaves them out.
    expect(await eventsSince(since, "{{.Action}}", "volume=evvol")).toEqual(["create", "mount", "unmount", "destroy"]);
    expect(await eventsSince(since, "{{.Type}} {{.Action}}", "network=evnet")).toEqual(["network create", "network connect", "network disconnect", "network destroy"]);
    expect(await eventsSince(since, "{{.Type}}", "container=evc", "event=create")).toEqual(["container"]);
  });
});

describe("docker wait conditions", () => {
  /** POST /containers/{name}/wait?condition=…, answered when the condition holds. */
  const waitFor = (name: string, condition: string) => env.agent.request("POST", `/v1.43/containers/${name}/wait?condition=${condition}`).then((r) => ({ status: r.status, body: JSON.parse(r.body) as unknown }));
  const settled = <T>(p: Promise<T>) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 700))]);

  it("not-running answers at once for a stopped container; next-exit waits for the next run's exit", async () => {
    await docker("run", "-d", "--name", "thrice", env.image, "sh", "-c", "exit 3");
    expect((await docker("wait", "thrice")).stdout.trim()).toBe("3");
    expect(await waitFor("thrice", "not-running")).toEqual({ status: 200, body: { StatusCode: 3, Error: null } });
    const next = waitFor("thrice", "next-exit");
    // Stopped now: next-exit is still waiting (for the exit of a run that hasn't begun).
    expect(await settled(next)).toBe(false);
    expect((await docker("start", "thrice")).code).toBe(0);
    expect(await next).toEqual({ status: 200, body: { StatusCode: 3, Error: null } });
    await docker("rm", "thrice");
  });

  it("removed waits past the exit until the container is gone; docker run --rm returns the exit code and leaves nothing", async () => {
    await docker("run", "-d", "--name", "doomed", env.image, "sleep", "600");
    const removed = waitFor("doomed", "removed");
    const stopped = waitFor("doomed", "not-running");
    expect((await docker("stop", "-t", "0", "doomed")).code).toBe(0);
    expect(await stopped).toEqual({ status: 200, body: { StatusCode: 137, Error: null } });
    expect(await settled(removed)).toBe(false);
    expect((await docker("rm", "doomed")).code).toBe(0);
    expect(await removed).toEqual({ status: 200, body: { StatusCode: 137, Error: null } });

    const run = await docker("run", "--rm", "--name", "ephemeral", env.image, "sh", "-c", "echo bye; exit 5");
    expect(run).toMatchObject({ code: 5, stdout: "bye\n" });
    expect((await docker("ps", "-a", "--filter", "name=ephemeral", "--format", "{{.Names}}")).stdout.trim()).toBe("");
  });

  it("an unknown container is a 404 and an unknown condition a 400, before anything is streamed", async () => {
    const missing = await env.agent.request("POST", "/v1.43/containers/nosuch/wait?condition=removed");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ message: "No such container: nosuch" });
    const cli = await docker("wait", "nosuch");
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("No such container: nosuch");
    await docker("create", "--name", "idle", env.image, "true");
    const bad = await env.agent.request("POST", "/v1.43/containers/idle/wait?condition=sometime");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ message: 'invalid condition: "sometime"' });
    // A created container isn't running: not-running holds at once.
    expect(await waitFor("idle", "not-running")).toEqual({ status: 200, body: { StatusCode: 0, Error: null } });
    await docker("rm", "idle");
  });
});
