import { createHash } from "node:crypto";
import { rename, rm, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDockerAgent, type DockerAgent } from "../fixtures/docker-agent";

// How the agent's failures reach a client (issue 16, item 4): every failure
// the agent means to report has its Docker status and its message; anything
// else is a 500 that says only that it happened, its detail in the agent's log.

let agent: DockerAgent;

beforeAll(async () => {
  agent = await startDockerAgent();
});
afterAll(async () => {
  await agent?.destroy();
});

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function tarOf(entries: { name: string; body: Buffer | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, mode: 0o644 }, e.body);
  pack.finalize();
  return buffer(pack);
}

/** A `docker save` archive of one image whose only layer holds `layerEntries`. */
async function imageArchive(layerEntries: { name: string; body: string }[]): Promise<Buffer> {
  const layer = await tarOf(layerEntries);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha(layer)] } }));
  const configName = `${sha(config).slice(7)}.json`;
  const manifest = JSON.stringify([{ Config: configName, RepoTags: ["local/hostile:v1"], Layers: ["layer.tar"] }]);
  return tarOf([
    { name: "manifest.json", body: manifest },
    { name: configName, body: config },
    { name: "layer.tar", body: layer },
  ]);
}

const messageOf = (body: string) => (JSON.parse(body) as { message: string }).message;

describe("errors through the Docker API", () => {
  it("a layer the agent refuses to unpack on load is a 400 naming the entry, and nothing is kept", async () => {
    const before = await agent.request("GET", "/v1.43/images/json");
    const r = await agent.request("POST", "/v1.43/images/load", await imageArchive([{ name: "../../escape", body: "x" }]), { "Content-Type": "application/x-tar" });
    expect(r.status).toBe(400);
    expect(messageOf(r.body)).toContain('unsafe layer entry "../../escape"');
    expect((await agent.request("GET", "/v1.43/images/json")).body).toBe(before.body);
  });

  it("an unexpected failure is a 500 saying only that, with the detail in the agent's log", async () => {
    // The agent's scratch directory for build contexts, replaced by a file: creating a context in it fails (ENOTDIR).
    const scratch = path.join(agent.root, "tmp");
    await rename(scratch, `${scratch}.aside`);
    await writeFile(scratch, "not a directory");
    try {
      const context = await tarOf([{ name: "Dockerfile", body: "FROM scratch\n" }]);
      const r = await agent.request("POST", "/v1.43/build", context, { "Content-Type": "application/x-tar" });
      expect(r.status).toBe(500);
      expect(messageOf(r.body)).toBe("internal error in the agent (see its log)");
      expect(r.body).not.toContain(agent.root);
      expect(agent.output()).toMatch(/internal error: Error: ENOTDIR: not a directory, mkdtemp/);
    } finally {
      await rm(scratch, { force: true });
      await rename(`${scratch}.aside`, scratch).catch(() => mkdir(scratch));
    }
    // The agent serves on.
    expect((await agent.request("GET", "/_ping")).status).toBe(200);
  });
});
