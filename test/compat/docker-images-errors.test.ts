import { mkdtemp, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// Images through the API, and bad requests: each gets the right status and a
// clear message, and leaves nothing behind.

let env: CompatEnv;
let work: string;
const docker = (...args: string[]) => env.agent.docker(args, { timeoutMs: 60_000 });

beforeAll(async () => {
  env = await startCompatEnv();
  work = await mkdtemp(path.join(os.tmpdir(), "berth-compat-img-"));
});
afterAll(async () => {
  await env?.close();
  await rm(work, { recursive: true, force: true });
});

describe("images through the Docker API", () => {
  it("pull, images, tag, save | load, rmi", async () => {
    const again = await docker("pull", env.image);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Status: Image is up to date for ${env.image}`);

    const list = await docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}");
    const [line] = list.stdout.trim().split("\n");
    expect(line).toMatch(new RegExp(`^${env.image.replace(/[.]/g, "\\.")} [a-f0-9]{12}$`));
    const id = (await docker("inspect", "-f", "{{.Id}}", env.image)).stdout.trim();
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);

    expect((await docker("tag", env.image, "local/tools:v2")).code).toBe(0);
    expect((await docker("images", "--format", "{{.Repository}}:{{.Tag}}")).stdout.trim().split("\n").sort()).toEqual([env.image, "local/tools:v2"].sort());

    const archive = path.join(work, "tools.tar");
    expect((await docker("save", "-o", archive, "local/tools:v2")).code).toBe(0);
    expect((await stat(archive)).size).toBeGreaterThan(100_000);

    const untag = await docker("rmi", "local/tools:v2");
    expect(untag.stdout.trim()).toBe("Untagged: local/tools:v2");
    // In use by nothing, the last tag goes and the image with it.
    const removed = await docker("rmi", env.image);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`Deleted: ${id}`);
    expect((await docker("images", "-q")).stdout.trim()).toBe("");

    const loaded = await docker("load", "-i", archive);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout).toContain("Loaded image: local/tools:v2");
    expect((await docker("inspect", "-f", "{{.Id}}", "local/tools:v2")).stdout.trim()).toBe(id);
    expect((await docker("run", "--rm", "local/tools:v2", "cat", "/srv/hello.txt")).stdout).toBe("hello from the image\n");

    // The classic pipe, through the API both ways: the same image comes back.
    const piped = await env.agent.shell("docker save local/tools:v2 | docker load");
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain("Loaded image: local/tools:v2");
    expect((await docker("inspect", "-f", "{{.Id}}", "local/tools:v2")).stdout.trim()).toBe(id);
  });

  it("docker run pulls a missing image by itself; an image in use needs force", async () => {
    await docker("rmi", "-f", env.image);
    const run = await docker("run", "--rm", env.image, "echo", "pulled");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("pulled\n");
    expect(run.stderr).toContain(`Unable to find image '${env.image}' locally`);

    await docker("create", "--name", "user", env.image, "true");
    // With one tag left, removing it would delete the image, which a container uses.
    expect((await docker("rmi", "local/tools:v2")).code).toBe(0);
    const refused = await docker("rmi", env.image);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`conflict: unable to remove repository reference "${env.image}" (must force) - container`);
    await docker("rm", "user");
  });
});

describe("bad requests", () => {
  const count = async () => (await docker("ps", "-a", "-q")).stdout.trim().split("\n").filter(Boolean).length;

  it("an unknown image is a clear not-found, and nothing is created", async () => {
    const before = await count();
    const r = await docker("run", "--rm", `${env.registry.host}/test/nope:latest`, "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/not found|manifest unknown/i);
    expect(await count()).toBe(before);
  });

  it("a name conflict is a 409 naming the holder", async () => {
    const first = await docker("create", "--name", "taken", env.image, "true");
    const id = first.stdout.trim();
    const before = await count();
    const second = await docker("create", "--name", "taken", env.image, "true");
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Conflict. The container name "/taken" is already in use by container "${id}"`);
    expect(await count()).toBe(before);
    await docker("rm", "taken");
  });

  it("an invalid memory value is refused with Docker's message", async () => {
    const before = await count();
    const r = await docker("run", "--rm", "-m", "1k", env.image, "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("Minimum memory limit allowed is 6MB");
    const name = await docker("create", "--name", "bad name!", env.image, "true");
    expect(name.code).toBe(1);
    expect(name.stderr).toContain("Invalid container name");
    expect(await count()).toBe(before);
  });

  it("malformed JSON, an oversized body and unknown endpoints get the right status", async () => {
    const before = await count();
    const malformed = await env.agent.request("POST", "/v1.43/containers/create", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(malformed.body).message).toMatch(/invalid JSON/);

    const wrongType = await env.agent.request("POST", "/v1.43/containers/create", JSON.stringify({ Image: env.image, HostConfig: { Memory: "lots" } }));
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.body).message).toContain("HostConfig.Memory");

    const big = JSON.stringify({ Image: env.image, Env: [`X=${"a".repeat(2 * 1024 * 1024)}`] });
    const oversized = await env.agent.request("POST", "/v1.43/containers/create", big);
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body).message).toMatch(/too large/);

    // A path Node's parser passes through but URL can't parse: a 400, and the agent lives on.
    const badPath = await new Promise<string>((resolve) => {
      const sock = net.connect(env.agent.socket, () => sock.end("GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      let text = "";
      sock.on("data", (d: Buffer) => (text += d.toString()));
      sock.on("close", () => resolve(text));
    });
    expect(badPath).toMatch(/^HTTP\/1\.1 400/);
    expect((await docker("version", "--format", "{{.Server.Version}}")).code).toBe(0);

    const unknown = await env.agent.request("GET", "/v1.43/swarm/nodes");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).message).toContain("/swarm/nodes");
    const tooNew = await env.agent.request("GET", "/v1.99/info");
    expect(tooNew.status).toBe(400);
    expect(JSON.parse(tooNew.body).message).toContain("Maximum supported API version is 1.43");
    expect(await count()).toBe(before);
  });

  it("start when running is 304, stop when stopped is 304, a missing container is 404", async () => {
    const id = (await docker("run", "-d", env.image, "sleep", "30")).stdout.trim();
    expect((await env.agent.request("POST", `/v1.43/containers/${id}/start`)).status).toBe(304);
    await docker("kill", id);
    await docker("wait", id);
    expect((await env.agent.request("POST", `/v1.43/containers/${id}/stop`)).status).toBe(304);
    const missing = await env.agent.request("GET", "/v1.43/containers/nothing-here/json");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).message).toBe("No such container: nothing-here");
    await docker("rm", id);
  });
});

describe("prune", () => {
  it("container, image and builder prune remove what nothing uses", async () => {
    await docker("run", "--name", "finished", env.image, "true");
    await docker("run", "-d", "--name", "still-up", env.image, "sleep", "30");
    const pruned = await docker("container", "prune", "-f");
    expect(pruned.code).toBe(0);
    expect((await docker("ps", "-a", "--format", "{{.Names}}")).stdout.trim()).toBe("still-up");
    // In use by still-up: kept even by prune -a.
    expect((await docker("image", "prune", "-a", "-f")).code).toBe(0);
    expect((await docker("images", "-q")).stdout.trim()).not.toBe("");
    await docker("rm", "-f", "still-up");
    expect((await docker("builder", "prune", "-f")).code).toBe(0);
  });
});
