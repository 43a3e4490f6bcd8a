import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MediaType } from "../../../agent/images/media-types";
import { freePort } from "../../../server/database/free-port";
import { collectProgress, createTestAgent, type TestAgent } from "../../fixtures/agent-images";
import { sha, startHostileRegistry, type HostileRegistry } from "../../fixtures/hostile-registry";

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Serves a one-layer image; `tamper` may change what the registry says or sends. */
async function serveImage(
  reg: HostileRegistry,
  repo: string,
  tag: string,
  tamper: { layerBody?: (b: Buffer) => Buffer; layerSize?: (n: number) => number; layerDigest?: string; diffId?: string } = {},
) {
  const plain = await tarOf({ "hello.txt": "hello from a layer\n", "etc/os-release": "NAME=test\n" });
  const gz = gzipSync(plain);
  const layerDigest = tamper.layerDigest ?? sha(gz);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [tamper.diffId ?? sha(plain)] }, config: {} }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha(config), size: config.length },
      layers: [{ mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: tamper.layerSize ? tamper.layerSize(gz.length) : gz.length }],
    }),
  );
  reg.manifest(repo, tag, manifest, MediaType.ociManifest);
  reg.blob(repo, sha(config), config);
  reg.blob(repo, layerDigest, tamper.layerBody ? tamper.layerBody(gz) : gz);
  return { layerDigest, configDigest: sha(config) };
}

describe("pulling from a registry that lies: nothing is committed", () => {
  let reg: HostileRegistry;
  let agent: TestAgent;

  beforeAll(async () => {
    reg = await startHostileRegistry();
  });
  afterAll(async () => reg?.stop());
  afterEach(async () => agent?.cleanup());

  async function expectNothingStored(layerDigest: string) {
    expect(agent.images.list()).toEqual([]);
    expect(existsSync(path.join(agent.root, "content/blobs/sha256", layerDigest.slice(7)))).toBe(false);
    expect(await readdir(path.join(agent.root, "content/ingest"))).toEqual([]);
    const snaps = (await readdir(path.join(agent.root, "snapshots"))).filter((n) => n !== "l");
    expect(snaps).toEqual([]);
  }

  it("an honest image pulls (the baseline for the cases below)", async () => {
    agent = await createTestAgent();
    await serveImage(reg, "ok/app", "v1", {});
    const progress = collectProgress();
    const record = await agent.images.pull(`${reg.host}/ok/app:v1`, { progress: progress.sink });
    expect(record.repoTags).toEqual([`${reg.host}/ok/app:v1`]);
    expect(progress.statuses()).toEqual(expect.arrayContaining(["Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete", "Extracting", "Pull complete"]));
  });

  it("a layer whose bytes don't match its digest", async () => {
    agent = await createTestAgent();
    const { layerDigest } = await serveImage(reg, "bad/digest", "v1", { layerBody: (b) => Buffer.concat([b.subarray(0, b.length - 1), Buffer.from([b[b.length - 1]! ^ 0xff])]) });
    await expect(agent.images.pull(`${reg.host}/bad/digest:v1`)).rejects.toMatchObject({ code: "DIGEST_MISMATCH", message: expect.stringContaining(layerDigest) });
    await expectNothingStored(layerDigest);
  });

  it("a manifest that lies about a layer's size", async () => {
    agent = await createTestAgent();
    const { layerDigest } = await serveImage(reg, "bad/size", "v1", { layerSize: (n) => n - 10 });
    await expect(agent.images.pull(`${reg.host}/bad/size:v1`)).rejects.toMatchObject({ code: "SIZE_MISMATCH" });
    await expectNothingStored(layerDigest);
  });

  it("a truncated gzip stream (honestly digested, so only unpacking can tell)", async () => {
    agent = await createTestAgent();
    // Incompressible, so the cut lands inside the compressed data.
    const plain = await tarOf({ "big.bin": randomBytes(100_000).toString("base64") });
    const truncated = gzipSync(plain).subarray(0, 200);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(plain)] } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: sha(config), size: config.length },
        layers: [{ mediaType: MediaType.ociLayerGzip, digest: sha(truncated), size: truncated.length }],
      }),
    );
    reg.manifest("bad/truncated", "v1", manifest, MediaType.ociManifest);
    reg.blob("bad/truncated", sha(config), config);
    reg.blob("bad/truncated", sha(truncated), truncated);
    await expect(agent.images.pull(`${reg.host}/bad/truncated:v1`)).rejects.toThrow(/truncat|unexpected end|corrupt/i);
    expect(agent.images.list()).toEqual([]);
    const snaps = (await readdir(path.join(agent.root, "snapshots"))).filter((n) => n !== "l");
    expect(snaps).toEqual([]);
  });

  it("a layer that unpacks to something other than the config's diff ID", async () => {
    agent = await createTestAgent();
    await serveImage(reg, "bad/diffid", "v1", { diffId: sha("something else") });
    await expect(agent.images.pull(`${reg.host}/bad/diffid:v1`)).rejects.toMatchObject({ code: "DIGEST_MISMATCH", message: expect.stringContaining("image config says") });
    expect(agent.images.list()).toEqual([]);
  });

  it("a manifest fetched by digest whose content has another digest", async () => {
    agent = await createTestAgent();
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: {}, layers: [] }));
    const claimed = sha("not this manifest");
    reg.manifest("bad/manifest", claimed, body, MediaType.ociManifest);
    await expect(agent.images.pull(`${reg.host}/bad/manifest@${claimed}`)).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    expect(agent.images.list()).toEqual([]);
  });

  it("a manifest that isn't JSON, or isn't a manifest, is refused clearly", async () => {
    agent = await createTestAgent();
    reg.manifest("bad/json", "v1", Buffer.from("<html>proxy error</html>"), MediaType.ociManifest);
    await expect(agent.images.pull(`${reg.host}/bad/json:v1`)).rejects.toMatchObject({ code: "REGISTRY_ERROR", message: "the manifest is not valid JSON" });
    reg.manifest("bad/shape", "v1", Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, layers: "nope" })), MediaType.ociManifest);
    await expect(agent.images.pull(`${reg.host}/bad/shape:v1`)).rejects.toMatchObject({ code: "REGISTRY_ERROR", message: expect.stringContaining("image manifest is malformed") });
    reg.manifest("bad/type", "v1", Buffer.from(JSON.stringify({ schemaVersion: 1, name: "x" })), "application/vnd.docker.distribution.manifest.v1+prettyjws");
    await expect(agent.images.pull(`${reg.host}/bad/type:v1`)).rejects.toMatchObject({ code: "UNSUPPORTED" });
    expect(agent.images.list()).toEqual([]);
  });

  it("unknown tags, bad references and an unreachable registry get clear errors", async () => {
    agent = await createTestAgent();
    await expect(agent.images.pull(`${reg.host}/ok/app:nope`)).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/not found: no such tag/) });
    await expect(agent.images.pull("Not A Valid/Ref")).rejects.toMatchObject({ code: "INVALID_REFERENCE" });
    const closed = await freePort();
    // A loopback port nobody allowed is refused before connecting; an allowed one that is closed is "could not be
    // reached" like any other failure below HTTP, and the agent's log says why.
    await expect(agent.images.pull(`127.0.0.1:${closed}/nothing/here:v1`)).rejects.toMatchObject({ code: "UNREACHABLE", message: expect.stringContaining("--allow-local-registry") });
    const allowed = await createTestAgent({ allowLocalRegistries: [`127.0.0.1:${closed}`] });
    try {
      await expect(allowed.images.pull(`127.0.0.1:${closed}/nothing/here:v1`)).rejects.toMatchObject({ code: "UNREACHABLE", message: `registry 127.0.0.1:${closed} could not be reached` });
      expect(allowed.logs.join("\n")).toContain("connection refused");
    } finally {
      await allowed.cleanup();
    }
  });
});
