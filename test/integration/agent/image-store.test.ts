import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OverlaySnapshotter } from "../../../agent/snapshots/snapshotter";
import { collectProgress, createTestAgent, tarDirectory, type TestAgent } from "../../fixtures/agent-images";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { buildTestImages, type BuiltImage } from "../../fixtures/test-images";

const run = promisify(execFile);

async function getfattrHex(file: string, name: string): Promise<string | null> {
  try {
    const { stdout } = await run("getfattr", ["-h", "-e", "hex", "-n", name, "--absolute-names", file]);
    return /=0x([0-9a-f]+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

describe("image store: pull, unpack, save/load, push against Debian's docker-registry", () => {
  let work: string;
  let registry: TestRegistry;
  let images: { layered: BuiltImage; simple: BuiltImage };
  let seeder: TestAgent;
  let agent: TestAgent;
  const layeredRef = () => `${registry.host}/test/layered:v1`;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-images-"));
    images = await buildTestImages(path.join(work, "built"));
    registry = await startRegistry({ auth: "none" });
    // The test images reach the registry through the agent's own load + push…
    seeder = await createTestAgent();
    await seeder.images.load(tarDirectory(images.layered.layoutDir));
    const loaded = seeder.images.list()[0]!;
    await seeder.images.tag(loaded.id, layeredRef());
    await seeder.images.push(layeredRef());
    // …and one also through skopeo, an independent client.
    await skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, `docker://${registry.host}/test/simple:v1`);
    agent = await createTestAgent();
  });

  afterAll(async () => {
    await agent?.cleanup();
    await seeder?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("pulls a multi-layer image with per-layer progress, and the merged overlay tree is right", async () => {
    const progress = collectProgress();
    const record = await agent.images.pull(layeredRef(), { progress: progress.sink });
    expect(record.id).toBe(images.layered.configDigest);
    expect(record.layers.map((l) => l.digest)).toEqual(images.layered.layerDigests);
    expect(record.layers.map((l) => l.diffId)).toEqual(images.layered.diffIds);
    expect(record.repoTags).toEqual([layeredRef()]);
    expect(record.repoDigests).toEqual([`${registry.host}/test/layered@${images.layered.manifestDigest}`]);
    for (const digest of images.layered.layerDigests) {
      const s = progress.statuses(digest.slice(7, 19));
      expect(s[0]).toBe("Pulling fs layer");
      expect(s).toEqual(expect.arrayContaining(["Downloading", "Verifying Checksum", "Download complete", "Extracting", "Pull complete"]));
      expect(s.indexOf("Download complete")).toBeLessThan(s.indexOf("Pull complete"));
    }
    const downloading = progress.events.find((e) => e.status === "Downloading");
    expect(downloading?.progressDetail?.total).toBeGreaterThan(0);

    const snapshots = new OverlaySnapshotter(path.join(agent.root, "snapshots"));
    const merged = await mkdtemp(path.join(os.tmpdir(), "berth-merged-"));
    await snapshots.mount(record.layers.at(-1)!.chainId, merged, { readOnly: true });
    try {
      const p = (rel: string) => path.join(merged, rel);
      await expect(stat(p("etc/deleted-me"))).rejects.toThrow(/ENOENT/);
      expect((await readdir(p("opaque"))).sort()).toEqual(["upper-c"]);
      expect((await stat(p("data/hard"))).ino).toBe((await stat(p("data/file"))).ino);
      expect(await readlink(p("data/link"))).toBe("file");
      expect(await getfattrHex(p("bin/ping"), "security.capability")).toBe("0100000200200000000000000000000000000000");
      expect((await stat(p("bin/busybox"))).mode & 0o777).toBe(0o755);
      expect(await readFile(p("etc/zstd-layer"), "utf8")).toBeTruthy();
      const entries = await readdir(merged, { recursive: true, withFileTypes: true });
      const userFile = [];
      for (const e of entries) {
        if (!e.isFile()) continue;
        const s = await lstat(path.join(e.parentPath, e.name));
        if (s.uid === 1000) userFile.push({ gid: s.gid, mode: s.mode & 0o777 });
      }
      expect(userFile).toEqual([{ gid: 1000, mode: 0o640 }]);
    } finally {
      await snapshots.unmount(merged);
      await rm(merged, { recursive: true, force: true });
    }
  });

  it("a second pull finds every layer already there", async () => {
    const progress = collectProgress();
    await agent.images.pull(layeredRef(), { progress: progress.sink });
    const perLayer = images.layered.layerDigests.map((d) => progress.statuses(d.slice(7, 19)));
    for (const s of perLayer) expect(s).toEqual(["Already exists"]);
  });

  it("agrees with skopeo copy of the same image: same layer digests and diff IDs", async () => {
    const out = path.join(work, "skopeo-layered");
    await skopeoCopy(`docker://${layeredRef()}`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(path.join(out, "index.json"), "utf8"));
    const manifest = JSON.parse(await readFile(path.join(out, "blobs/sha256", index.manifests[0].digest.slice(7)), "utf8"));
    const config = JSON.parse(await readFile(path.join(out, "blobs/sha256", manifest.config.digest.slice(7)), "utf8"));
    const record = agent.images.resolve(layeredRef());
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(record.layers.map((l) => l.digest));
    expect(config.rootfs.diff_ids).toEqual(record.layers.map((l) => l.diffId));
    expect(manifest.config.digest).toBe(record.id);
  });

  it("pulls an image pushed by skopeo and shares layers across concurrent pulls", async () => {
    const fresh = await createTestAgent();
    try {
      const blobGets = () => registry.requests().filter((r) => r.method === "GET" && r.path.includes("/blobs/sha256:")).length;
      const before = blobGets();
      const [a, b] = await Promise.all([fresh.images.pull(`${registry.host}/test/simple:v1`), fresh.images.pull(`${registry.host}/test/simple:v1`)]);
      expect(a.id).toBe(b.id);
      expect(a.id).toBe(images.simple.configDigest);
      // One config + one layer: each fetched once, however many pulls asked.
      expect(blobGets() - before).toBe(2);
    } finally {
      await fresh.cleanup();
    }
  });

  it("save → rmi → load round-trips with the same image ID, and rmi frees blobs and snapshots", async () => {
    const file = path.join(work, "layered.tar");
    await agent.images.save([layeredRef()], createWriteStream(file));
    const id = agent.images.resolve(layeredRef()).id;

    const report = await agent.images.remove(layeredRef());
    expect(report).toEqual(expect.arrayContaining([{ Deleted: id }]));
    expect(agent.images.list()).toEqual([]);
    expect(await readdir(path.join(agent.root, "content/blobs/sha256"))).toEqual([]);
    expect((await readdir(path.join(agent.root, "snapshots"))).filter((n) => n !== "l")).toEqual([]);

    const lines: string[] = [];
    await agent.images.load(createReadStream(file), (l) => lines.push(l));
    expect(lines).toEqual([`Loaded image: ${layeredRef()}`]);
    const loaded = agent.images.resolve(layeredRef());
    expect(loaded.id).toBe(id);
    expect(loaded.layers.map((l) => l.digest)).toEqual(images.layered.layerDigests);

    // The archive is one that skopeo reads, as a docker-archive and as an oci-archive.
    const viaDocker = path.join(work, "from-docker-archive");
    await skopeoCopy(`docker-archive:${file}`, `oci:${viaDocker}:x`);
    const viaOci = path.join(work, "from-oci-archive");
    await skopeoCopy(`oci-archive:${file}:v1`, `oci:${viaOci}:x`).catch(async () => skopeoCopy(`oci-archive:${file}`, `oci:${viaOci}:x`));
    for (const dir of [viaDocker, viaOci]) {
      const idx = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8"));
      const m = JSON.parse(await readFile(path.join(dir, "blobs/sha256", idx.manifests[0].digest.slice(7)), "utf8"));
      const c = JSON.parse(await readFile(path.join(dir, "blobs/sha256", m.config.digest.slice(7)), "utf8"));
      expect(c.rootfs.diff_ids).toEqual(images.layered.diffIds);
    }
  });

  it("loads a classic docker-archive written by skopeo", async () => {
    const file = path.join(work, "simple-docker.tar");
    await skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, `docker-archive:${file}:example.test/simple:v9`);
    const fresh = await createTestAgent();
    try {
      const lines: string[] = [];
      await fresh.images.load(createReadStream(file), (l) => lines.push(l));
      expect(lines).toEqual(["Loaded image: example.test/simple:v9"]);
      expect(fresh.images.resolve("example.test/simple:v9").id).toBe(images.simple.configDigest);
    } finally {
      await fresh.cleanup();
    }
  });

  it("loads a pre-25 docker save archive whose repeated layer is a symlink", async () => {
    const layerPack = tar.pack();
    layerPack.entry({ name: "hello.txt", mode: 0o644, mtime: new Date(0) }, "hello\n");
    layerPack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of layerPack) chunks.push(c as Buffer);
    const layer = Buffer.concat(chunks);
    const { createHash } = await import("node:crypto");
    const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
    const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(layer), sha(layer)] }, config: { Cmd: ["/hello"] } });
    const archive = tar.pack();
    archive.entry({ name: "aaaa/layer.tar" }, layer);
    archive.entry({ name: "bbbb/layer.tar", type: "symlink", linkname: "../aaaa/layer.tar" });
    archive.entry({ name: `${sha(config).slice(7)}.json` }, config);
    archive.entry({ name: "manifest.json" }, JSON.stringify([{ Config: `${sha(config).slice(7)}.json`, RepoTags: ["legacy/app:1"], Layers: ["aaaa/layer.tar", "bbbb/layer.tar"] }]));
    archive.finalize();
    const fresh = await createTestAgent();
    try {
      await fresh.images.load(Readable.from(archive));
      const record = fresh.images.resolve("legacy/app:1");
      expect(record.id).toBe(sha(config));
      expect(record.layers.map((l) => l.diffId)).toEqual([sha(layer), sha(layer)]);
      expect(record.layers[0]!.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    } finally {
      await fresh.cleanup();
    }
  });

  it("refuses a broken archive with a clear message and keeps nothing", async () => {
    const file = path.join(work, "broken.tar");
    await pipeline(tarDirectory(path.join(work, "built")), createWriteStream(file));
    const fresh = await createTestAgent();
    try {
      await expect(fresh.images.load(createReadStream(file))).rejects.toMatchObject({ code: "INVALID_ARCHIVE" });
      expect(fresh.images.list()).toEqual([]);
      await expect(fresh.images.load(createReadStream("/etc/hostname"))).rejects.toMatchObject({ code: "INVALID_ARCHIVE" });
      // manifest.json may only name files the archive itself holds: no reading the host's files.
      const sneaky = tar.pack();
      sneaky.entry({ name: "manifest.json" }, JSON.stringify([{ Config: "../../../../../etc/hostname", RepoTags: ["x:y"], Layers: [] }]));
      sneaky.finalize();
      await expect(fresh.images.load(Readable.from(sneaky))).rejects.toMatchObject({ code: "INVALID_ARCHIVE", message: expect.stringContaining("which it doesn't contain") });
      expect(fresh.images.list()).toEqual([]);
    } finally {
      await fresh.cleanup();
    }
  });

  it("rmi untags when other tags remain, and refuses an image in use unless forced", async () => {
    await agent.images.tag(layeredRef(), "example.test/other:tag");
    expect(await agent.images.remove("example.test/other:tag")).toEqual([{ Untagged: "example.test/other:tag" }]);
    expect(agent.images.resolve(layeredRef()).repoTags).toEqual([layeredRef()]);
    await expect(agent.images.remove("no-such-image:v1")).rejects.toMatchObject({ code: "NOT_FOUND" });

    agent.images.setImageInUse((id) => (id === agent.images.resolve(layeredRef()).id ? ["web-1"] : []));
    await expect(agent.images.remove(layeredRef())).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("web-1") });
    expect(agent.images.list()).toHaveLength(1);
    await agent.images.remove(layeredRef(), { force: true });
    expect(agent.images.list()).toEqual([]);
  });
});
