import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from "node:fs";
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar, { type Header } from "tar-stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyLayer, CorruptLayerError, UnsafeLayerError } from "../../../agent/snapshots/apply-layer";
import { openLayerStream } from "../../../agent/snapshots/decompress";

// Layers are built here with tar-stream; PAX records go in as raw bytes
// (tar-stream's own `pax` option UTF-8-encodes strings, so it can't write a
// binary xattr the way Go's archive/tar, i.e. Docker, does).

interface TarEntry extends Partial<Header> {
  name: string;
  body?: string | Buffer;
  /** Written as a raw PAX header right before the entry. */
  pax?: Array<[string, string | Buffer]>;
}

const T0 = new Date("2021-03-04T05:06:07Z");
const T1 = new Date("2020-01-02T03:04:05Z");
const T2 = new Date("2019-06-07T08:09:10Z");

function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A PAX extended header ("x") block with its body, which tar-stream's pack can't write from raw bytes. */
function paxHeader(records: Array<[string, string | Buffer]>): Buffer {
  const body = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  const block = Buffer.alloc(512);
  block.write("PaxHeader", 0);
  block.write("0000644\0", 100);
  block.write("0000000\0", 108);
  block.write("0000000\0", 116);
  block.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
  block.write("00000000000\0", 136);
  block.write("        ", 148);
  block[156] = "x".charCodeAt(0);
  block.write("ustar\0" + "00", 257);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  block.write(`${checksum.toString(8).padStart(6, "0")}\0 `, 148);
  return Buffer.concat([block, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** One entry as tar-stream writes it, without the end-of-archive blocks. */
async function packEntry(header: Partial<Header> & { name: string }, body: string | Buffer | undefined): Promise<Buffer> {
  const pack = tar.pack();
  if (body !== undefined || !header.type || header.type === "file") pack.entry(header, body ?? "");
  else pack.entry(header);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - 1024);
}

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const { body, pax, ...header } of entries) {
    if (pax) parts.push(paxHeader(pax));
    parts.push(await packEntry({ mtime: T0, ...header }, body));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const zstd = (data: Buffer) => {
  const out = spawnSync("zstd", ["-c", "-q"], { input: data, maxBuffer: 1 << 28 });
  if (out.status !== 0) throw new Error(`zstd failed: ${out.stderr}`);
  return out.stdout;
};
const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Hex of an xattr as getfattr reports it, or null when absent. */
function xattrHex(file: string, name: string): string | null {
  try {
    const out = execFileSync("getfattr", ["-h", "--absolute-names", "-n", name, "-e", "hex", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return /=0x([0-9a-f]*)/.exec(out)?.[1] ?? "";
  } catch {
    return null;
  }
}

function allNames(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String);
}

// cap_net_raw,cap_setfcap+ep as a VFS_CAP_REVISION_2 xattr. Bytes 0x80 and 0x00
// make it invalid UTF-8, so a string round-trip would corrupt it.
const CAPABILITY = Buffer.from("0100000200200080000000000000000000000000", "hex");
const BINARY_USER_XATTR = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x3d, 0x0a, 0x41]);

describe("applyLayer: a layer's entries land on disk with all their properties", () => {
  let work: string;
  const big = randomBytes(3 * 1024 * 1024 + 7);
  const longName = `opt/${"n".repeat(150)}/${"f".repeat(120)}.txt`;
  let plain: Buffer;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-apply-"));
    plain = await tarOf([
      { name: "./", type: "directory", mode: 0o755, mtime: T1 },
      { name: "etc/", type: "directory", mode: 0o755, mtime: T2 },
      { name: "etc/hostname", body: "berth\n", mode: 0o644 },
      { name: "etc/rel", type: "symlink", linkname: "../usr/bin/ping", mtime: T2 },
      { name: "home/user/", type: "directory", mode: 0o750, uid: 1000, gid: 1000, mtime: T2 },
      {
        name: "home/user/notes.txt",
        body: "hello",
        mode: 0o640,
        uid: 1000,
        gid: 1000,
        mtime: T1,
        pax: [["SCHILY.xattr.user.test", "hello-xattr"]],
      },
      // No usr/ or usr/bin/ entries: parents are created.
      {
        name: "usr/bin/ping",
        body: "#!/bin/true\n",
        mode: 0o4755,
        pax: [
          ["SCHILY.xattr.security.capability", CAPABILITY],
          ["SCHILY.xattr.user.binary", BINARY_USER_XATTR],
          ["mtime", "1600000000.25"],
        ],
      },
      // As Docker writes it: the link repeats the file's metadata, though not (as other writers) its xattrs.
      { name: "usr/bin/ping6", type: "link", linkname: "usr/bin/ping", mode: 0o4755, pax: [["mtime", "1600000000.25"]] },
      { name: "usr/bin/sh", type: "symlink", linkname: "/bin/busybox" },
      { name: "usr/bin/sgid", body: "x", mode: 0o2711, gid: 42 },
      { name: "srv/shared/", type: "directory", mode: 0o2775, gid: 50 },
      { name: "tmp/", type: "directory", mode: 0o1777 },
      { name: "run/fifo", type: "fifo", mode: 0o600, uid: 7, gid: 8 },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "dev/loop9", type: "block-device", devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
      { name: longName, body: "long" },
      { name: "data/big.bin", body: big, mode: 0o600, uid: 65534, gid: 65534 },
    ]);
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  async function applyInto(name: string, layer: Buffer, mediaType?: string) {
    const root = path.join(work, name);
    await mkdir(root);
    const result = await applyLayer(openLayerStream(Readable.from([layer]), mediaType), root);
    return { root, result };
  }

  it.each([
    ["plain", (b: Buffer) => b, "application/vnd.oci.image.layer.v1.tar"],
    ["gzip", (b: Buffer) => gzipSync(b), "application/vnd.oci.image.layer.v1.tar+gzip"],
    // Mislabelled on purpose: detection goes by magic bytes.
    ["zstd", zstd, "application/vnd.oci.image.layer.v1.tar+gzip"],
  ])("%s: diffId is the sha256 of the uncompressed tar, and every property is on disk", async (kind, compress, mediaType) => {
    const { root, result } = await applyInto(kind, compress(plain), mediaType);
    expect(result.diffId).toBe(sha256(plain));
    expect(result.size).toBe(6 + 5 + 12 + 1 + 4 + big.length);
    const at = (p: string) => path.join(root, p);
    const st = (p: string) => lstatSync(at(p));
    const owner = (s: Stats) => [s.uid, s.gid];

    expect(st(".").mode & 0o7777).toBe(0o755);
    expect(st(".").mtime).toEqual(T1);
    expect(st("etc").mtime).toEqual(T2); // set after etc/hostname and etc/rel were added
    expect(readFileSync(at("etc/hostname"), "utf8")).toBe("berth\n");
    expect(st("etc/hostname").mtime).toEqual(T0);

    expect(st("etc/rel").isSymbolicLink()).toBe(true);
    expect(await readlink(at("etc/rel"))).toBe("../usr/bin/ping");
    expect(st("etc/rel").mtime).toEqual(T2);
    expect(await readlink(at("usr/bin/sh"))).toBe("/bin/busybox"); // dangling, stored verbatim

    expect(st("home/user").isDirectory()).toBe(true);
    expect(st("home/user").mode & 0o7777).toBe(0o750);
    expect(owner(st("home/user"))).toEqual([1000, 1000]);
    expect(st("home/user/notes.txt").mode & 0o7777).toBe(0o640);
    expect(owner(st("home/user/notes.txt"))).toEqual([1000, 1000]);
    expect(st("home/user/notes.txt").mtime).toEqual(T1);
    expect(xattrHex(at("home/user/notes.txt"), "user.test")).toBe(Buffer.from("hello-xattr").toString("hex"));

    const ping = st("usr/bin/ping");
    expect(ping.mode & 0o7777).toBe(0o4755);
    expect(owner(ping)).toEqual([0, 0]);
    expect(ping.mtimeMs).toBe(1600000000250);
    expect(xattrHex(at("usr/bin/ping"), "security.capability")).toBe(CAPABILITY.toString("hex"));
    expect(xattrHex(at("usr/bin/ping"), "user.binary")).toBe(BINARY_USER_XATTR.toString("hex"));
    // The hardlink shares the inode, and linking didn't strip the capability or setuid bit.
    expect(st("usr/bin/ping6").ino).toBe(ping.ino);
    expect(st("usr/bin/ping").nlink).toBe(2);
    expect(xattrHex(at("usr/bin/ping6"), "security.capability")).toBe(CAPABILITY.toString("hex"));
    expect(st("usr/bin/ping6").mode & 0o7777).toBe(0o4755);
    expect(st("usr").mode & 0o7777).toBe(0o755); // created parent

    expect(st("usr/bin/sgid").mode & 0o7777).toBe(0o2711);
    expect(owner(st("usr/bin/sgid"))).toEqual([0, 42]);
    expect(st("srv/shared").mode & 0o7777).toBe(0o2775);
    expect(st("tmp").mode & 0o7777).toBe(0o1777);

    expect(st("run/fifo").isFIFO()).toBe(true);
    expect(st("run/fifo").mode & 0o7777).toBe(0o600);
    expect(owner(st("run/fifo"))).toEqual([7, 8]);
    expect(st("dev/null").isCharacterDevice()).toBe(true);
    expect(st("dev/null").rdev).toBe((1 << 8) | 3);
    expect(st("dev/null").mode & 0o7777).toBe(0o666);
    expect(st("dev/loop9").isBlockDevice()).toBe(true);
    expect(st("dev/loop9").rdev).toBe((7 << 8) | 9);
    expect(owner(st("dev/loop9"))).toEqual([0, 6]);

    expect(readFileSync(at(longName), "utf8")).toBe("long");
    expect(readFileSync(at("data/big.bin")).equals(big)).toBe(true);
    expect(owner(st("data/big.bin"))).toEqual([65534, 65534]);
  });

  it("converts AUFS whiteouts to overlayfs ones and ignores other AUFS metadata", async () => {
    const layer = await tarOf([
      { name: "a/", type: "directory", mode: 0o755, mtime: T2 },
      { name: "a/keep", body: "k" },
      { name: "a/.wh.old", uid: 1000, gid: 1000 },
      { name: ".wh.gone" },
      { name: "opq/", type: "directory", mode: 0o700 },
      { name: "opq/.wh..wh..opq" },
      { name: "opq/new", body: "n" },
      { name: "fresh/.wh..wh..opq" },
      { name: ".wh..wh.plnk/1234.5678", body: "aufs hardlink store" },
      { name: "a/.wh..wh.aufs" },
      { name: "a/replaced", body: "first" },
      { name: "a/.wh.replaced" },
    ]);
    const { root, result } = await applyInto("whiteouts", layer);
    expect(result.diffId).toBe(sha256(layer));
    for (const p of ["gone", "a/old", "a/replaced"]) {
      const s = lstatSync(path.join(root, p));
      expect(s.isCharacterDevice(), p).toBe(true);
      expect(s.rdev, p).toBe(0);
      expect([s.uid, s.gid], p).toEqual([0, 0]);
    }
    expect(xattrHex(path.join(root, "opq"), "trusted.overlay.opaque")).toBe("79"); // "y"
    expect(lstatSync(path.join(root, "opq")).mode & 0o7777).toBe(0o700);
    expect(xattrHex(path.join(root, "fresh"), "trusted.overlay.opaque")).toBe("79");
    expect(xattrHex(path.join(root, "a"), "trusted.overlay.opaque")).toBeNull();
    expect(lstatSync(path.join(root, "a")).mtime).toEqual(T2);
    expect(allNames(root).sort()).toEqual(["a", "a/keep", "a/old", "a/replaced", "fresh", "gone", "opq", "opq/new"]);
  });

  it("replaces like Docker: a directory merges into a directory, anything else is removed first", async () => {
    const layer = await tarOf([
      { name: "d/", type: "directory", mode: 0o755 },
      { name: "d/inside", body: "1" },
      { name: "d/", type: "directory", mode: 0o700, uid: 5 },
      { name: "f", body: "file" },
      { name: "f", type: "symlink", linkname: "d" },
      { name: "gone-dir/sub/x", body: "x" },
      { name: "gone-dir", body: "now a file" },
      { name: "s", type: "symlink", linkname: "/etc/passwd" },
      { name: "s", body: "not written through the link" },
      { name: "was-file", body: "x" },
      { name: "was-file/", type: "directory", mode: 0o711 },
      { name: "was-file/child", body: "c" },
    ]);
    const { root } = await applyInto("replace", layer);
    expect(readFileSync(path.join(root, "d/inside"), "utf8")).toBe("1");
    expect(lstatSync(path.join(root, "d")).mode & 0o7777).toBe(0o700);
    expect(lstatSync(path.join(root, "d")).uid).toBe(5);
    expect(await readlink(path.join(root, "f"))).toBe("d");
    expect(readFileSync(path.join(root, "gone-dir"), "utf8")).toBe("now a file");
    expect(lstatSync(path.join(root, "s")).isFile()).toBe(true);
    expect(readFileSync(path.join(root, "s"), "utf8")).toBe("not written through the link");
    expect(lstatSync(path.join(root, "was-file")).isDirectory()).toBe(true);
    expect(lstatSync(path.join(root, "was-file")).mode & 0o7777).toBe(0o711);
    expect(readFileSync(path.join(root, "was-file/child"), "utf8")).toBe("c");
  });
});

describe("applyLayer: hostile layers write nothing outside the root", () => {
  let parent: string;
  let root: string;
  const sentinel = "sentinel: must stay as is\n";
  const passwd = readFileSync("/etc/passwd");
  const passwdLinks = lstatSync("/etc/passwd").nlink;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), "berth-hostile-"));
  });
  afterAll(async () => rm(parent, { recursive: true, force: true }));

  afterEach(async () => {
    // The parent holds the root and the sentinel, nothing else, whatever the layer tried.
    expect(readdirSync(parent).sort()).toEqual(["root", "sentinel"]);
    expect(readFileSync(path.join(parent, "sentinel"), "utf8")).toBe(sentinel);
    expect(readFileSync("/etc/passwd").equals(passwd)).toBe(true);
    expect(lstatSync("/etc/passwd").nlink).toBe(passwdLinks);
    expect(existsSync(path.join(os.tmpdir(), "etc/x"))).toBe(false);
    await rm(path.join(parent, "root"), { recursive: true, force: true });
  });

  async function apply(entries: TarEntry[] | Buffer) {
    root = path.join(parent, "root");
    await mkdir(root);
    await writeFile(path.join(parent, "sentinel"), sentinel);
    const layer = Buffer.isBuffer(entries) ? entries : await tarOf(entries);
    return applyLayer(openLayerStream(Readable.from([layer])), root);
  }

  it.each([["../escaped"], ["../../etc/x"], ["a/../../escaped"], ["./../sentinel"]])("refuses %j", async (name) => {
    const err = await apply([{ name, body: "pwned" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerError);
    expect((err as Error).message).toContain(name);
  });

  it("confines absolute names to the root (as Docker does): /etc/x -> root/etc/x, /../sentinel -> root/sentinel", async () => {
    await apply([
      { name: "/etc/x", body: "confined" },
      { name: "/../sentinel", body: "confined too" },
    ]);
    expect(readFileSync(path.join(root, "etc/x"), "utf8")).toBe("confined");
    expect(readFileSync(path.join(root, "sentinel"), "utf8")).toBe("confined too");
  });

  it("confines writes through a symlink to /: link/etc/x -> root/etc/x", async () => {
    await apply([
      { name: "link", type: "symlink", linkname: "/" },
      { name: "link/etc/x", body: "confined" },
      { name: "link/sentinel", body: "confined" },
    ]);
    expect(await readlink(path.join(root, "link"))).toBe("/");
    expect(readFileSync(path.join(root, "etc/x"), "utf8")).toBe("confined");
    expect(readFileSync(path.join(root, "sentinel"), "utf8")).toBe("confined");
  });

  it("confines relative symlink chains that climb with ../../..", async () => {
    await apply([
      { name: "x/y/up", type: "symlink", linkname: "../../../../.." },
      { name: "hop", type: "symlink", linkname: "x/y/up/.." },
      { name: "x/y/up/sentinel", body: "confined" },
      { name: "hop/../escaped", body: "cleaned away" },
      { name: "hop/tmp/x", body: "confined" },
      { name: "host", type: "symlink", linkname: parent },
      { name: "host/sentinel", body: "confined" },
    ]);
    expect(readFileSync(path.join(root, "sentinel"), "utf8")).toBe("confined");
    expect(readFileSync(path.join(root, "escaped"), "utf8")).toBe("cleaned away");
    expect(readFileSync(path.join(root, "tmp/x"), "utf8")).toBe("confined");
    expect(readFileSync(path.join(root, parent, "sentinel"), "utf8")).toBe("confined");
  });

  it("refuses a hardlink to the host's /etc/passwd when the layer has none", async () => {
    const err = await apply([{ name: "stolen", type: "link", linkname: "/etc/passwd" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerError);
    expect((err as Error).message).toMatch(/stolen.*does not exist/);
  });

  it("links a hardlink to /etc/passwd to the layer's own etc/passwd", async () => {
    await apply([
      { name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n" },
      { name: "stolen", type: "link", linkname: "/etc/passwd" },
      { name: "link", type: "symlink", linkname: "/" },
      { name: "stolen2", type: "link", linkname: "link/etc/passwd" },
    ]);
    const own = lstatSync(path.join(root, "etc/passwd"));
    expect(lstatSync(path.join(root, "stolen")).ino).toBe(own.ino);
    expect(lstatSync(path.join(root, "stolen2")).ino).toBe(own.ino);
    expect(own.nlink).toBe(3);
    expect(readFileSync(path.join(root, "stolen"), "utf8")).toBe("root:x:0:0::/root:/bin/sh\n");
  });

  it.each([
    ["../sentinel", /outside the layer root/],
    ["link/../../sentinel", /outside the layer root/],
  ])("refuses a hardlink to %j", async (linkname, message) => {
    const err = await apply([
      { name: "link", type: "symlink", linkname: "/" },
      { name: "h", type: "link", linkname },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerError);
    expect((err as Error).message).toMatch(message);
  });

  it("refuses a hardlink through a symlink to the host when the layer lacks the target", async () => {
    const err = await apply([
      { name: "host", type: "symlink", linkname: parent },
      { name: "h", type: "link", linkname: "host/sentinel" },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerError);
  });

  it("refuses symlink loops", async () => {
    const err = await apply([
      { name: "l1", type: "symlink", linkname: "l2" },
      { name: "l2", type: "symlink", linkname: "l1" },
      { name: "l1/x", body: "x" },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerError);
    expect((err as Error).message).toMatch(/l1\/x.*too many levels of symbolic links/);
  });

  it("refuses a name with a NUL byte", async () => {
    const err = await apply([{ name: "placeholder", body: "x", pax: [["path", "etc/x\0../../escaped"]] }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerError);
    expect((err as Error).message).toMatch(/NUL/);
  });

  it("does not let a layer forge overlay xattrs", async () => {
    await apply([{ name: "d/", type: "directory", pax: [["SCHILY.xattr.trusted.overlay.opaque", "y"]] }]);
    expect(xattrHex(path.join(root, "d"), "trusted.overlay.opaque")).toBeNull();
  });

  describe("damaged streams fail with CorruptLayerError", () => {
    let tarBytes: Buffer;
    beforeAll(async () => {
      tarBytes = await tarOf([
        { name: "a.txt", body: "a" },
        { name: "big.bin", body: randomBytes(200_000) },
        { name: "z.txt", body: "z" },
      ]);
    });

    it("a truncated gzip stream", async () => {
      const gz = gzipSync(tarBytes);
      const err = await apply(gz.subarray(0, gz.length - 100)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptLayerError);
      expect((err as Error).message).toMatch(/gzip.*truncated or corrupt/);
    });

    it("a gzip stream with a flipped byte", async () => {
      const gz = Buffer.from(gzipSync(tarBytes));
      gz[gz.length - 6]! ^= 0xff; // in the CRC/length trailer
      await expect(apply(gz)).rejects.toBeInstanceOf(CorruptLayerError);
    });

    it("a truncated zstd stream", async () => {
      const zs = zstd(tarBytes);
      const err = await apply(zs.subarray(0, Math.floor(zs.length / 2))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptLayerError);
      expect((err as Error).message).toMatch(/zstd.*truncated or corrupt/);
    });

    it("a tar cut in the middle of a file", async () => {
      const err = await apply(tarBytes.subarray(0, 512 * 3 + 50_000)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptLayerError);
      expect((err as Error).message).toMatch(/big\.bin.*truncated/);
    });

    it("a tar cut in the middle of a header", async () => {
      const err = await apply(tarBytes.subarray(0, 1024 + 100)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptLayerError);
    });

    it("bytes that are not a tar", async () => {
      const err = await apply(randomBytes(4096)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptLayerError);
      expect((err as Error).message).toMatch(/invalid tar/);
    });
  });
});

describe("applyLayer reads streams as they arrive", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "berth-apply-chunks-"));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("hashes every byte, including the end-of-archive padding", async () => {
    const body = randomBytes(70_000);
    const layer = Buffer.concat([await tarOf([{ name: "f", body }]), Buffer.alloc(10 * 512)]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < layer.length; i += 333) pieces.push(layer.subarray(i, i + 333));
    const result = await applyLayer(openLayerStream(Readable.from(pieces)), dir);
    expect(result.diffId).toBe(sha256(layer));
    expect((await readFile(path.join(dir, "f"))).equals(body)).toBe(true);
  });

  it("stops when aborted while the stream stalls (a hung download)", async () => {
    const layer = await tarOf([{ name: "first", body: "1" }, { name: "second", body: randomBytes(100_000) }]);
    const stalled = new PassThrough();
    stalled.write(layer.subarray(0, 2048)); // "first" whole, then nothing more ever comes
    const controller = new AbortController();
    const target = await mkdtemp(path.join(dir, "abort-"));
    const applying = applyLayer(openLayerStream(stalled), target, { signal: controller.signal });
    while (!existsSync(path.join(target, "first"))) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("pull cancelled"));
    await expect(applying).rejects.toThrow("pull cancelled");
    // The download itself is let go too.
    expect(stalled.destroyed).toBe(true);
  });
});
