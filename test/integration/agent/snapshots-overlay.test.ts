import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar, { type Header } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLayer } from "../../../agent/snapshots/apply-layer";
import { chainIds } from "../../../agent/snapshots/chain-id";
import { openLayerStream } from "../../../agent/snapshots/decompress";
import { OverlaySnapshotter, SnapshotError } from "../../../agent/snapshots/snapshotter";

interface TarEntry extends Partial<Header> {
  name: string;
  body?: string;
  /** PAX records (text values only here; binary ones are covered by snapshots-apply). */
  pax?: Record<string, string>;
}

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) {
    const full = { mtime: new Date("2022-02-02T00:00:00Z"), ...header };
    if (body !== undefined || !header.type || header.type === "file") pack.entry(full, body ?? "");
    else pack.entry(full);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

function xattr(file: string, name: string): string | null {
  try {
    const out = execFileSync("getfattr", ["-h", "--absolute-names", "-n", name, "--only-values", file], { stdio: ["ignore", "pipe", "pipe"] });
    return out.toString("utf8");
  } catch {
    return null;
  }
}

function isMounted(target: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === target);
}

/** Super-block options of the mount at `target`, from /proc/self/mountinfo. */
function superOptions(target: string): string {
  const line = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === target);
  return line?.split(" - ")[1]?.split(" ")[2] ?? "";
}

describe("OverlaySnapshotter: layers stacked into one overlayfs tree", () => {
  let work: string;
  let snapshots: OverlaySnapshotter;
  const mounted: string[] = [];
  let chains: string[] = [];
  let diffIds: string[] = [];

  async function mountAt(name: string, chainId: string, opts: Parameters<OverlaySnapshotter["mount"]>[2] = { readOnly: true }) {
    const target = path.join(work, name);
    await mkdir(target, { recursive: true });
    await snapshots.mount(chainId, target, opts);
    mounted.push(target);
    return target;
  }

  async function unmountAll() {
    while (mounted.length) {
      const target = mounted.pop()!;
      if (isMounted(target)) await snapshots.unmount(target);
    }
  }

  /** Unpacks `layers` as an image: snapshot i on top of snapshot i - 1. */
  async function createImage(layers: Buffer[]): Promise<string[]> {
    const ids: string[] = [];
    for (const layer of layers) ids.push(sha256(layer));
    const chain = chainIds(ids);
    for (let i = 0; i < layers.length; i++) {
      await snapshots.create(chain[i]!, i === 0 ? null : chain[i - 1]!, async (dir) => {
        const { diffId } = await applyLayer(openLayerStream(Readable.from([gzipSync(layers[i]!)])), dir);
        if (diffId !== ids[i]) throw new Error(`diffId mismatch: ${diffId} != ${ids[i]}`);
      });
    }
    return chain;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-overlay-"));
    snapshots = new OverlaySnapshotter(path.join(work, "snapshots"));
    await snapshots.init();

    const layers = [
      await tarOf([
        { name: "./", type: "directory", mode: 0o755 },
        { name: "etc/", type: "directory", mode: 0o755 },
        { name: "etc/keep", body: "k1" },
        { name: "etc/remove-me", body: "bye" },
        { name: "opq/", type: "directory", mode: 0o755 },
        { name: "opq/old1", body: "o1" },
        { name: "opq/sub/old2", body: "o2" },
        { name: "bin/tool", body: "#!/bin/true\n", mode: 0o4755, pax: { "SCHILY.xattr.user.origin": "layer1" } },
        { name: "home/u/", type: "directory", mode: 0o700, uid: 1000, gid: 1000 },
        { name: "home/u/file", body: "mine", mode: 0o600, uid: 1000, gid: 1000 },
      ]),
      await tarOf([
        { name: "etc/.wh.remove-me" },
        { name: "etc/keep", body: "k2" },
        { name: "opq/", type: "directory", mode: 0o750 },
        { name: "opq/.wh..wh..opq" },
        { name: "opq/mine", body: "m2" },
      ]),
      await tarOf([{ name: "new/file3", body: "3", mode: 0o640, uid: 33, gid: 33, pax: { "SCHILY.xattr.user.l3": "three" } }]),
    ];
    diffIds = layers.map(sha256);
    chains = await createImage(layers);
  });

  afterAll(async () => {
    await unmountAll();
    await rm(work, { recursive: true, force: true });
  });

  it("lays snapshots out like overlay2: diff, link, lower, parent and l/<short> links", async () => {
    const root = snapshots.root;
    expect(chains[0]).toBe(diffIds[0]);
    expect((await snapshots.list()).sort()).toEqual([...chains].sort());
    const shorts = chains.map((c) => readFileSync(path.join(root, c.slice(7), "link"), "utf8"));
    for (const [i, short] of shorts.entries()) {
      expect(short).toMatch(/^[A-Z0-9]{26}$/);
      expect(await readlink(path.join(root, "l", short))).toBe(`../${chains[i]!.slice(7)}/diff`);
    }
    expect(existsSync(path.join(root, chains[0]!.slice(7), "lower"))).toBe(false);
    expect(readFileSync(path.join(root, chains[2]!.slice(7), "lower"), "utf8")).toBe(`l/${shorts[1]}:l/${shorts[0]}`);
    expect(readFileSync(path.join(root, chains[2]!.slice(7), "parent"), "utf8")).toBe(chains[1]);
    expect(await snapshots.lowerDirs(chains[2]!)).toEqual([`l/${shorts[2]}`, `l/${shorts[1]}`, `l/${shorts[0]}`]);
    expect(readdirSync(root).sort()).toEqual([...chains.map((c) => c.slice(7)), "l"].sort());
  });

  it("mounts the merged tree read-only: whiteouts delete, opaque dirs hide, metadata survives", async () => {
    const merged = await mountAt("merged", chains[2]!);
    try {
      expect(superOptions(merged)).toContain("lowerdir=l/");
      expect(existsSync(path.join(merged, "etc/remove-me"))).toBe(false);
      expect(readFileSync(path.join(merged, "etc/keep"), "utf8")).toBe("k2");
      expect(readdirSync(path.join(merged, "etc"))).toEqual(["keep"]);
      expect(readdirSync(path.join(merged, "opq"))).toEqual(["mine"]);
      expect(lstatSync(path.join(merged, "opq")).mode & 0o7777).toBe(0o750);

      const tool = lstatSync(path.join(merged, "bin/tool"));
      expect(tool.mode & 0o7777).toBe(0o4755);
      expect(xattr(path.join(merged, "bin/tool"), "user.origin")).toBe("layer1");
      const home = lstatSync(path.join(merged, "home/u/file"));
      expect([home.uid, home.gid, home.mode & 0o7777]).toEqual([1000, 1000, 0o600]);
      const file3 = lstatSync(path.join(merged, "new/file3"));
      expect([file3.uid, file3.gid, file3.mode & 0o7777]).toEqual([33, 33, 0o640]);
      expect(xattr(path.join(merged, "new/file3"), "user.l3")).toBe("three");

      await expect(writeFile(path.join(merged, "etc/keep"), "x")).rejects.toMatchObject({ code: "EROFS" });
    } finally {
      await unmountAll();
    }
    expect(isMounted(merged)).toBe(false);
  });

  it("mounts a single-layer snapshot read-only too (a bind mount: overlayfs needs two lowers without an upper)", async () => {
    const base = await mountAt("base", chains[0]!);
    try {
      expect(readFileSync(path.join(base, "etc/remove-me"), "utf8")).toBe("bye");
      expect(readdirSync(path.join(base, "opq")).sort()).toEqual(["old1", "sub"]);
      await expect(writeFile(path.join(base, "x"), "x")).rejects.toMatchObject({ code: "EROFS" });
    } finally {
      await unmountAll();
    }
  });

  it("mounts with a writable upper layer, leaving the snapshots untouched", async () => {
    const upper = path.join(work, "rw/upper");
    const workDir = path.join(work, "rw/work");
    await mkdir(upper, { recursive: true });
    await mkdir(workDir, { recursive: true });
    const rw = await mountAt("rw/merged", chains[0]!, { upperDir: upper, workDir });
    try {
      await writeFile(path.join(rw, "etc/keep"), "changed");
      await rm(path.join(rw, "etc/remove-me"));
    } finally {
      await unmountAll();
    }
    expect(readFileSync(path.join(upper, "etc/keep"), "utf8")).toBe("changed");
    expect(lstatSync(path.join(upper, "etc/remove-me")).isCharacterDevice()).toBe(true);
    expect(readFileSync(path.join(snapshots.diffDir(chains[0]!), "etc/keep"), "utf8")).toBe("k1");
    expect(readFileSync(path.join(snapshots.diffDir(chains[0]!), "etc/remove-me"), "utf8")).toBe("bye");
  });

  it("mounts a 120-layer image, which only fits the one-page mount option through the short links", async () => {
    const layers: Buffer[] = [];
    for (let i = 0; i < 120; i++) layers.push(await tarOf([{ name: `files/f${String(i).padStart(3, "0")}`, body: `layer ${i}` }]));
    const chain = await createImage(layers);
    // What the option would be with absolute diff paths instead:
    const absolute = chain.map((c) => snapshots.diffDir(c)).join(":");
    expect(absolute.length).toBeGreaterThan(4096);

    const top = await mountAt("tall", chain.at(-1)!);
    try {
      const files = readdirSync(path.join(top, "files")).sort();
      expect(files).toHaveLength(120);
      expect(files[0]).toBe("f000");
      expect(files[119]).toBe("f119");
      expect(readFileSync(path.join(top, "files/f077"), "utf8")).toBe("layer 77");
    } finally {
      await unmountAll();
    }
    for (const c of [...chain].reverse()) await snapshots.remove(c);
  });

  it("runs fill once for concurrent creates of one ChainID; the others wait for it", async () => {
    const log = path.join(work, "fill-calls.log");
    const layer = await tarOf([{ name: "only-once", body: "1" }]);
    const [chainId] = chainIds([sha256(layer)]);
    const fill = async (dir: string) => {
      await appendFile(log, "fill\n");
      await new Promise((r) => setTimeout(r, 50));
      await applyLayer(openLayerStream(Readable.from([layer])), dir);
    };
    await Promise.all(Array.from({ length: 5 }, () => snapshots.create(chainId!, null, fill)));
    expect(readFileSync(log, "utf8")).toBe("fill\n");
    expect(readFileSync(path.join(snapshots.diffDir(chainId!), "only-once"), "utf8")).toBe("1");
    // Existing: a no-op.
    await snapshots.create(chainId!, null, fill);
    expect(readFileSync(log, "utf8")).toBe("fill\n");
    await snapshots.remove(chainId!);
  });

  it("keeps nothing of a create whose fill fails, and a retry then succeeds", async () => {
    const chainId = `sha256:${"e".repeat(64)}`;
    const before = readdirSync(path.join(snapshots.root, "l")).sort();
    await expect(
      snapshots.create(chainId, chains[2]!, async (dir) => {
        await writeFile(path.join(dir, "half"), "written");
        throw new Error("disk on fire");
      }),
    ).rejects.toThrow("disk on fire");
    expect(snapshots.has(chainId)).toBe(false);
    expect(readdirSync(snapshots.root).filter((n) => n.startsWith("tmp-"))).toEqual([]);
    expect(readdirSync(path.join(snapshots.root, "l")).sort()).toEqual(before);

    await snapshots.create(chainId, chains[2]!, async (dir) => writeFile(path.join(dir, "whole"), "ok"));
    expect(snapshots.has(chainId)).toBe(true);
    expect(readFileSync(path.join(snapshots.diffDir(chainId), "whole"), "utf8")).toBe("ok");
    await snapshots.remove(chainId);
  });

  it("refuses a missing parent and malformed ChainIDs", async () => {
    await expect(snapshots.create(`sha256:${"f".repeat(64)}`, `sha256:${"0".repeat(64)}`, async () => {})).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(snapshots.create("sha256:../../etc", null, async () => {})).rejects.toBeInstanceOf(SnapshotError);
    expect(() => snapshots.has("../x")).toThrow(SnapshotError);
  });

  it("removes children before parents, and then leaves nothing behind", async () => {
    await expect(snapshots.remove(chains[1]!)).rejects.toMatchObject({ code: "IN_USE" });
    expect(snapshots.has(chains[1]!)).toBe(true);
    for (const c of [...chains].reverse()) await snapshots.remove(c);
    expect(await snapshots.list()).toEqual([]);
    expect(readdirSync(snapshots.root)).toEqual(["l"]);
    expect(readdirSync(path.join(snapshots.root, "l"))).toEqual([]);
  });

  it("init clears what a crash left behind: scratch dirs and dangling short links", async () => {
    const root = snapshots.root;
    await mkdir(path.join(root, "tmp-crashed/diff"), { recursive: true });
    await writeFile(path.join(root, "tmp-crashed/diff/partial"), "half");
    execFileSync("ln", ["-s", `../${"a".repeat(64)}/diff`, path.join(root, "l/DANGLINGDANGLINGDANGLING00")]);
    await snapshots.init();
    expect(readdirSync(root)).toEqual(["l"]);
    expect(readdirSync(path.join(root, "l"))).toEqual([]);
    expect(await readFile(path.join(work, "fill-calls.log"), "utf8")).toBe("fill\n");
  });
});
