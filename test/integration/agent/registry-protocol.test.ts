import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MediaType } from "../../../agent/images/media-types";
import { parsePlatform } from "../../../agent/images/platform";
import { collectProgress, createTestAgent, tarDirectory } from "../../fixtures/agent-images";
import { sha, startHostileRegistry, type HostileRegistry } from "../../fixtures/hostile-registry";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoInspect } from "../../fixtures/skopeo";
import { buildTestImages } from "../../fixtures/test-images";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

async function layerOf(files: Record<string, string>) {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const plain = Buffer.concat(chunks);
  return { plain, gz: gzipSync(plain) };
}

/** Puts a one-layer image for `arch` on the registry; returns its manifest bytes and config digest. */
async function putImage(reg: HostileRegistry, repo: string, arch: string, manifestType: string) {
  const { plain, gz } = await layerOf({ "arch.txt": `${arch}\n` });
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [sha(plain)] } }));
  const docker = manifestType === MediaType.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: sha(config), size: config.length },
      layers: [{ mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip, digest: sha(gz), size: gz.length }],
    }),
  );
  reg.blob(repo, sha(config), config);
  reg.blob(repo, sha(gz), gz);
  reg.manifest(repo, sha(manifest), manifest, manifestType);
  return { manifest, configDigest: sha(config), layerDigest: sha(gz) };
}

describe("registry protocol: indexes, platforms, retries, redirects, chunked uploads", () => {
  let reg: HostileRegistry;
  let other: HostileRegistry;

  beforeAll(async () => {
    reg = await startHostileRegistry();
    other = await startHostileRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
    await other?.stop();
  });

  it.each([
    ["an OCI index", MediaType.ociIndex, MediaType.ociManifest],
    ["a Docker manifest list", MediaType.dockerManifestList, MediaType.dockerManifest],
  ])("picks the requested platform from %s", async (_name, indexType, manifestType) => {
    const repo = `multi/${indexType === MediaType.ociIndex ? "oci" : "docker"}`;
    const amd = await putImage(reg, repo, "amd64", manifestType);
    const arm = await putImage(reg, repo, "arm64", manifestType);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: indexType,
        manifests: [
          { mediaType: manifestType, digest: sha(amd.manifest), size: amd.manifest.length, platform: { os: "linux", architecture: "amd64" } },
          { mediaType: manifestType, digest: sha(arm.manifest), size: arm.manifest.length, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        ],
      }),
    );
    reg.manifest(repo, "v1", index, indexType);
    const agent = await createTestAgent();
    try {
      expect((await agent.images.pull(`${reg.host}/${repo}:v1`, { platform: parsePlatform("linux/arm64") })).id).toBe(arm.configDigest);
      const amdRecord = await agent.images.pull(`${reg.host}/${repo}:v1`, { platform: parsePlatform("linux/amd64") });
      expect(amdRecord.id).toBe(amd.configDigest);
      expect(amdRecord.architecture).toBe("amd64");
      await expect(agent.images.pull(`${reg.host}/${repo}:v1`, { platform: parsePlatform("linux/riscv64") })).rejects.toThrow(
        /no image for platform linux\/riscv64 \(the index has: linux\/amd64, linux\/arm64\/v8\)/,
      );
    } finally {
      await agent.cleanup();
    }
  });

  it("retries a blob that answers 503 twice, then succeeds", async () => {
    const img = await putImage(reg, "flaky/app", "amd64", MediaType.ociManifest);
    reg.manifest("flaky/app", "v1", img.manifest, MediaType.ociManifest);
    const path = `/v2/flaky/app/blobs/${img.layerDigest}`;
    reg.failNext(path, 2, 503);
    const agent = await createTestAgent({ retries: 3 });
    try {
      expect((await agent.images.pull(`${reg.host}/flaky/app:v1`)).id).toBe(img.configDigest);
      expect(reg.requests.filter((r) => r === `GET ${path}`)).toHaveLength(3);
      // Without retries left, the 503 is a clear error.
      reg.failNext(`/v2/flaky/app/manifests/v1`, 5, 503);
      const impatient = await createTestAgent({ retries: 0 });
      await expect(impatient.images.pull(`${reg.host}/flaky/app:v1`)).rejects.toThrow(/answered 503/);
      await impatient.cleanup();
    } finally {
      await agent.cleanup();
    }
  });

  it("a layer download cut off midway is retried from the start, and nothing half-done is kept", async () => {
    const { plain, gz } = await layerOf({ "big.txt": randomBytes(300_000).toString("base64") });
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(plain)] } }));
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: sha(config), size: config.length }, layers: [{ mediaType: MediaType.ociLayerGzip, digest: sha(gz), size: gz.length }] }),
    );
    reg.blob("cut/app", sha(config), config);
    reg.blob("cut/app", sha(gz), gz);
    reg.manifest("cut/app", "v1", manifest, MediaType.ociManifest);
    const path = `/v2/cut/app/blobs/${sha(gz)}`;
    reg.cutNext(path, 2, 100_000);
    const agent = await createTestAgent();
    try {
      const record = await agent.images.pull(`${reg.host}/cut/app:v1`);
      expect(record.layers[0]!.diffId).toBe(sha(plain));
      expect(reg.requests.filter((r) => r === `GET ${path}`)).toHaveLength(3);
      // Cut off every time: a clear error, and no image.
      reg.cutNext(`/v2/cut/app/blobs/${sha(gz)}`, 10, 1000);
      const unlucky = await createTestAgent();
      reg.manifest("cut/other", "v1", manifest, MediaType.ociManifest);
      reg.blob("cut/other", sha(config), config);
      reg.blob("cut/other", sha(gz), gz);
      reg.cutNext(`/v2/cut/other/blobs/${sha(gz)}`, 10, 1000);
      await expect(unlucky.images.pull(`${reg.host}/cut/other:v1`)).rejects.toMatchObject({ code: "UNREACHABLE" });
      expect(unlucky.images.list()).toEqual([]);
      await unlucky.cleanup();
    } finally {
      await agent.cleanup();
    }
  });

  it("a registry that stops answering times out with a clear error", async () => {
    const img = await putImage(reg, "slow/app", "amd64", MediaType.ociManifest);
    reg.manifest("slow/app", "v1", img.manifest, MediaType.ociManifest);
    reg.hang(`/v2/slow/app/blobs/${img.layerDigest}`);
    const agent = await createTestAgent({ idleTimeoutMs: 300, retries: 1 });
    try {
      // Below HTTP, every failure reads the same to the client; the agent's log says it timed out.
      await expect(agent.images.pull(`${reg.host}/slow/app:v1`)).rejects.toMatchObject({ code: "UNREACHABLE", message: expect.stringContaining("could not be reached") });
      expect(agent.logs.join("\n")).toContain("timed out");
      expect(agent.images.list()).toEqual([]);
    } finally {
      await agent.cleanup();
    }
  });

  it("an image that lists the same layer blob twice pulls (the blob is fetched once)", async () => {
    const x = await layerOf({ "x.txt": "x\n" });
    const y = await layerOf({ "y.txt": "y\n" });
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(x.plain), sha(y.plain), sha(x.plain)] } }));
    const layer = (l: { gz: Buffer }) => ({ mediaType: MediaType.ociLayerGzip, digest: sha(l.gz), size: l.gz.length });
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: sha(config), size: config.length }, layers: [layer(x), layer(y), layer(x)] }),
    );
    reg.blob("dup/app", sha(config), config);
    reg.blob("dup/app", sha(x.gz), x.gz);
    reg.blob("dup/app", sha(y.gz), y.gz);
    reg.manifest("dup/app", "v1", manifest, MediaType.ociManifest);
    const agent = await createTestAgent();
    try {
      const record = await agent.images.pull(`${reg.host}/dup/app:v1`);
      expect(record.layers.map((l) => l.digest)).toEqual([sha(x.gz), sha(y.gz), sha(x.gz)]);
      expect(new Set(record.layers.map((l) => l.chainId)).size).toBe(3);
      expect(reg.requests.filter((r) => r === `GET /v2/dup/app/blobs/${sha(x.gz)}`)).toHaveLength(1);
    } finally {
      await agent.cleanup();
    }
  });

  it("follows a blob redirect to another host without sending it the credentials", async () => {
    const img = await putImage(reg, "private/app", "amd64", MediaType.ociManifest);
    reg.manifest("private/app", "v1", img.manifest, MediaType.ociManifest);
    const { gz } = await layerOf({ "arch.txt": "amd64\n" });
    other.blob("cdn", img.layerDigest, gz);
    reg.redirect(`/v2/private/app/blobs/${img.layerDigest}`, `http://${other.host}/v2/cdn/blobs/${img.layerDigest}`);
    reg.requireBasic("alice", "wonderland");
    const agent = await createTestAgent({ credentials: () => ({ username: "alice", password: "wonderland" }) });
    try {
      expect((await agent.images.pull(`${reg.host}/private/app:v1`)).id).toBe(img.configDigest);
      expect(other.requests).toContain(`GET /v2/cdn/blobs/${img.layerDigest}`);
      expect(other.authorizations.every((a) => a === "")).toBe(true);
      expect(reg.authorizations.some((a) => a.startsWith("Basic "))).toBe(true);
    } finally {
      await agent.cleanup();
    }
  });
});

describe("chunked push to Debian's docker-registry", () => {
  let registry: TestRegistry;
  let work: string;

  beforeAll(async () => {
    registry = await startRegistry({ auth: "none" });
    work = await mkdtemp(path.join(os.tmpdir(), "berth-chunked-"));
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("uploads blobs in 64 KiB chunks when asked, and the registry assembles them exactly", async () => {
    const { layered } = await buildTestImages(work);
    const agent = await createTestAgent({ uploadChunkSize: 64 * 1024 });
    try {
      await agent.images.load(tarDirectory(layered.layoutDir));
      const ref = `${registry.host}/chunked/layered:v1`;
      await agent.images.tag(agent.images.list()[0]!.id, ref);
      const progress = collectProgress();
      await agent.images.push(ref, { progress: progress.sink });
      const patches = registry.requests().filter((r) => r.method === "PATCH");
      expect(patches.length).toBeGreaterThan(layered.layerDigests.length);
      const raw = (await skopeoInspect(`docker://${ref}`, { raw: true })) as { layers: { digest: string }[] };
      expect(raw.layers.map((l) => l.digest)).toEqual(layered.layerDigests);
      const fresh = await createTestAgent();
      expect((await fresh.images.pull(ref)).id).toBe(layered.configDigest);
      await fresh.cleanup();
    } finally {
      await agent.cleanup();
    }
  });
});
