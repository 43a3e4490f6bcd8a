import { execFile, spawn } from "node:child_process";
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningLocalRegistries } from "../../fixtures/local-registries";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { buildSimpleImage, type BuiltImage } from "../../fixtures/test-images";

const run = promisify(execFile);
const AGENT = path.resolve(import.meta.dirname, "../../../dist/berth-agent.mjs");

async function agent(root: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // The test registry is on loopback, which the agent reaches only when allowed.
    const { stdout, stderr } = await run(process.execPath, [AGENT, ...args, "--root", root, ...runningLocalRegistries().flatMap((r) => ["--allow-local-registry", r])]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("berth-agent command line (the bundled dist/berth-agent.mjs)", () => {
  let work: string;
  let registry: TestRegistry;
  let image: BuiltImage;
  let root: string;
  let ref: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-cli-"));
    root = path.join(work, "root");
    image = await buildSimpleImage(path.join(work, "img"));
    registry = await startRegistry({ auth: "none" });
    ref = `${registry.host}/cli/simple:v1`;
    await skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, `docker://${ref}`);
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("pull prints each layer's progress; images lists the result", async () => {
    const pulled = await agent(root, "pull", ref);
    expect(pulled.code).toBe(0);
    const layer = image.layerDigests[0]!.slice(7, 19);
    expect(pulled.stdout).toContain(`${layer}: Pulling fs layer`);
    expect(pulled.stdout).toContain(`${layer}: Pull complete`);
    expect(pulled.stdout).toContain(`Digest: ${image.manifestDigest}`);
    const listed = await agent(root, "images");
    expect(listed.stdout).toMatch(new RegExp(`${registry.host}/cli/simple\\s+v1\\s+${image.configDigest.slice(7, 19)}`));
  });

  it("save, rmi and load round-trip; push sends the image to another repository", async () => {
    const file = path.join(work, "simple.tar");
    expect((await agent(root, "save", "-o", file, ref)).code).toBe(0);
    const removed = await agent(root, "rmi", ref);
    expect(removed.stdout).toContain(`Deleted: ${image.configDigest}`);
    expect((await agent(root, "images", "--json")).stdout.trim()).toBe("[]");
    const loaded = await agent(root, "load", "-i", file);
    expect(loaded.stdout.trim()).toBe(`Loaded image: ${ref}`);
    expect((await agent(root, "tag", ref, `${registry.host}/cli/copy:v2`)).code).toBe(0);
    const pushed = await agent(root, "push", `${registry.host}/cli/copy:v2`);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`v2: digest: ${image.manifestDigest}`);
  });

  it("bad input gets a clear message and a non-zero exit", async () => {
    const bad = await agent(root, "pull", "team/UPPER:v1");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid reference "team/UPPER:v1": repository names must be lowercase');
    const missing = await agent(root, "pull", `${registry.host}/cli/simple:nope`);
    expect(missing.stderr).toMatch(/not found: no such tag/);
    const unknown = await agent(root, "frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const noImage = await agent(root, "rmi", "nothing:here");
    expect(noImage.stderr).toContain("no such image: nothing:here");
  });

  it("serve answers /_ping and /version on its unix socket", async () => {
    const socket = path.join(work, "agent.sock");
    // Its own exec root, cgroup parent, bridge and subnets; torn down at the end.
    const execRoot = await mkdtemp("/run/bt-");
    const tag = path.basename(execRoot).slice(3).toLowerCase().replace(/[^a-z0-9]/g, "x");
    const own = ["--root", root, "--exec-root", execRoot, "--cgroup-parent", `berth-test-${tag}`, "--bridge", `bc${tag}`, "--bridge-subnet", "10.207.250.0/24", "--network-pool", "10.207.251.0/24"];
    const child = spawn(process.execPath, [AGENT, "serve", ...own, "--socket", socket], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      for (let i = 0; i < 100 && !out.includes("listening"); i++) await new Promise((r) => setTimeout(r, 100));
      const get = (p: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          http.get({ socketPath: socket, path: p }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          }).on("error", reject);
        });
      expect(await get("/_ping")).toEqual({ status: 200, body: "OK" });
      const version = await get("/v1.43/version");
      expect(JSON.parse(version.body)).toMatchObject({ ApiVersion: "1.43", Os: "linux" });
      // A second process on the same root is refused instead of clearing the first one's work.
      const second = await agent(root, "images");
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/agent root .* is in use by another berth-agent process \(pid \d+\)/);
    } finally {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
      const teardown = await agent(root, "teardown", ...own.slice(2));
      expect(teardown.code).toBe(0);
      await rm(execRoot, { recursive: true, force: true });
    }
  });
});
