import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tar, { type Header } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFINEMENT_HEADER, encodeConfinement } from "../../lib/confinement";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";

// docker cp both ways and docker export, with the stock docker CLI against a
// real agent, on running and stopped containers, into volumes and bind
// mounts; and the archive API itself: the stat header, and uploads that try
// to write outside the container (refused, nothing written anywhere).

let env: CompatEnv;
let work: string;
const docker = (...args: string[]) => env.agent.docker(args);
const sh = (line: string) => env.agent.shell(line);

/** An uncompressed tar of `entries` (tar-stream: an independent writer). */
async function tarOf(entries: Array<Partial<Header> & { name: string; body?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) {
    if (header.type === undefined || header.type === "file") pack.entry({ mode: 0o644, ...header }, body ?? "");
    else pack.entry({ mode: 0o755, ...header });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The names in a tar. */
async function namesIn(data: Buffer): Promise<string[]> {
  const extract = tar.extract();
  const names: string[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
  })();
  extract.end(data);
  await done;
  return names;
}

/** A raw request on the agent's socket with a binary body. */
function put(id: string, containerPath: string, body: Buffer, query = "") {
  return env.agent.request("PUT", `/v1.43/containers/${id}/archive?path=${encodeURIComponent(containerPath)}${query}`, body, { "Content-Type": "application/x-tar" });
}

async function run(...args: string[]): Promise<string> {
  const r = await docker("run", "-d", ...args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

const exec = async (id: string, line: string) => (await docker("exec", id, "sh", "-c", line)).stdout;

beforeAll(async () => {
  env = await startCompatEnv();
  work = await mkdtemp(path.join(os.tmpdir(), "berth-cp-"));
});
afterAll(async () => {
  await env?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("docker cp out of a container", () => {
  it("copies a file and a directory out of a running container, and out of a stopped one", async () => {
    const id = await run(env.image, "sh", "-c", "mkdir -p /data/sub && echo one > /data/one.txt && echo two > /data/sub/two.txt && touch /data/empty && ln -s one.txt /data/link && sleep 600");
    await exec(id, "test -f /data/sub/two.txt");
    const out = path.join(work, "out-running");
    await mkdir(out);

    expect((await docker("cp", `${id}:/data/one.txt`, path.join(out, "copy.txt"))).code).toBe(0);
    expect(readFileSync(path.join(out, "copy.txt"), "utf8")).toBe("one\n");
    // A directory: with its own name into an existing directory, its contents with "/.".
    expect((await docker("cp", `${id}:/data`, out)).code).toBe(0);
    expect(readFileSync(path.join(out, "data/sub/two.txt"), "utf8")).toBe("two\n");
    expect(await readlink(path.join(out, "data/link"))).toBe("one.txt");
    expect(readFileSync(path.join(out, "data/empty"), "utf8")).toBe("");
    await mkdir(path.join(out, "contents"));
    expect((await docker("cp", `${id}:/data/.`, path.join(out, "contents"))).code).toBe(0);
    expect(readFileSync(path.join(out, "contents/sub/two.txt"), "utf8")).toBe("two\n");

    // The image's own files, through the container's overlay.
    expect((await docker("cp", `${id}:/srv/hello.txt`, "-")).code).toBe(0);
    const fromImage = await sh(`docker cp ${id}:/srv/hello.txt - | tar -xO`);
    expect(fromImage.stdout).toBe("hello from the image\n");

    expect((await docker("stop", "-t", "0", id)).code).toBe(0);
    const stopped = path.join(work, "out-stopped");
    expect((await docker("cp", `${id}:/data`, stopped)).code).toBe(0);
    expect(readFileSync(path.join(stopped, "one.txt"), "utf8")).toBe("one\n");
  });

  it("follows a symlink with -L, and copies the link itself without", async () => {
    const id = await run(env.image, "sh", "-c", "echo target-content > /srv/target && ln -s /srv/target /srv/abs-link && sleep 600");
    await exec(id, "test -L /srv/abs-link");
    const plain = path.join(work, "plain-link");
    expect((await docker("cp", `${id}:/srv/abs-link`, plain)).code).toBe(0);
    expect(await readlink(plain)).toBe("/srv/target");
    const followed = path.join(work, "followed-link");
    expect((await docker("cp", "-L", `${id}:/srv/abs-link`, followed)).code).toBe(0);
    expect(readFileSync(followed, "utf8")).toBe("target-content\n");
  });

  it("reads through a symlink to /etc in the container's own /etc, never the host's", async () => {
    const marker = `inside-${randomBytes(4).toString("hex")}`;
    const id = await run(env.image, "sh", "-c", `echo ${marker} > /etc/berth-marker && ln -s /etc /srv/etc && ln -s ../../../../../../etc/passwd /srv/passwd && sleep 600`);
    await exec(id, "test -L /srv/etc");
    const viaLink = await sh(`docker cp ${id}:/srv/etc/berth-marker - | tar -xO`);
    expect(viaLink.stdout).toBe(`${marker}\n`);
    expect(existsSync("/etc/berth-marker")).toBe(false);
    // The container's passwd (busybox's few accounts), not the host's.
    const inside = (await exec(id, "cat /etc/passwd"));
    const viaDotDot = await sh(`docker cp -L ${id}:/srv/passwd - | tar -xO`);
    expect(viaDotDot.stdout).toBe(inside);
    expect(viaDotDot.stdout).not.toBe(readFileSync("/etc/passwd", "utf8"));
    const viaDir = await sh(`docker cp ${id}:/srv/etc/ - | tar -t`);
    expect(viaDir.stdout.split("\n")).toContain("etc/berth-marker");
  });

  it("survives a reader that goes away mid-archive, and lets the container go", async () => {
    const id = await run(env.image, "sh", "-c", "dd if=/dev/zero of=/srv/big bs=1M count=32 2>/dev/null; sleep 600");
    await exec(id, "test $(stat -c %s /srv/big) = 33554432");
    const cut = await sh(`docker cp ${id}:/srv - | head -c 4096 | wc -c`);
    expect(cut.stdout.trim()).toBe("4096");
    // The agent is still there, and the container's lock was let go: another copy and a stop go through.
    expect((await sh(`docker cp ${id}:/srv/hello.txt - | tar -xO`)).stdout).toBe("hello from the image\n");
    expect((await docker("stop", "-t", "0", id)).code).toBe(0);
  });

  it("answers a missing path with 404 and dockerd's words", async () => {
    const id = await run(env.image, "sleep", "600");
    const r = await docker("cp", `${id}:/no/such/file`, path.join(work, "nothing"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Could not find the file /no/such/file in container ${id}`);
    const head = await env.agent.request("HEAD", `/v1.43/containers/${id}/archive?path=/no/such/file`);
    expect(head.status).toBe(404);
    const empty = await env.agent.request("GET", `/v1.43/containers/${id}/archive?path=`);
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).message).toBe("bad parameter: path cannot be empty");
  });
});

describe("the X-Docker-Container-Path-Stat header", () => {
  it("describes the path with Go's FileMode bits, its mtime and a symlink's resolved target", async () => {
    const id = await run(env.image, "sh", "-c", "mkdir /srv/dir && chmod 1750 /srv/dir && printf 12345 > /srv/five && chmod 4755 /srv/five && ln -s dir /srv/rel-link && touch -d '2021-02-03 04:05:06' /srv/five && sleep 600");
    await exec(id, "test -L /srv/rel-link");
    const statOf = async (p: string) => {
      const r = await env.agent.request("HEAD", `/v1.43/containers/${id}/archive?path=${encodeURIComponent(p)}`);
      expect(r.status).toBe(200);
      return JSON.parse(Buffer.from(String(r.headers["x-docker-container-path-stat"]), "base64").toString("utf8")) as Record<string, unknown>;
    };
    const file = await statOf("/srv/five");
    // 0o4755 with Go's ModeSetuid (1<<23).
    expect(file).toMatchObject({ name: "five", size: 5, mode: 2 ** 23 + 0o755, linkTarget: "" });
    expect(file.mtime).toBe("2021-02-03T04:05:06Z");
    const dir = await statOf("/srv/dir");
    // ModeDir (1<<31) | ModeSticky (1<<20) | 0o750.
    expect(dir).toMatchObject({ name: "dir", mode: 2 ** 31 + 2 ** 20 + 0o750 });
    const link = await statOf("/srv/rel-link");
    expect(link).toMatchObject({ name: "rel-link", mode: 2 ** 27 + 0o777, linkTarget: "/srv/dir" });
    // A trailing "/" follows the link: the directory's stat.
    expect(await statOf("/srv/rel-link/")).toMatchObject({ name: "rel-link", mode: 2 ** 31 + 2 ** 20 + 0o750 });
    expect(await statOf("/")).toMatchObject({ name: "/" });
  });
});

describe("docker cp into a container", () => {
  it("copies a file and a directory in, into a running container and a stopped one", async () => {
    const src = path.join(work, "src-in");
    await mkdir(path.join(src, "tree/deep"), { recursive: true });
    await writeFile(path.join(src, "file.txt"), "file in\n");
    await writeFile(path.join(src, "tree/deep/leaf.txt"), "leaf\n");

    const id = await run(env.image, "sleep", "600");
    expect((await docker("cp", path.join(src, "file.txt"), `${id}:/srv/`)).code).toBe(0);
    expect((await docker("cp", path.join(src, "tree"), `${id}:/srv/copied-tree`)).code).toBe(0);
    expect(await exec(id, "cat /srv/file.txt /srv/copied-tree/deep/leaf.txt")).toBe("file in\nleaf\n");
    // Renamed on the way in, and over an existing file.
    expect((await docker("cp", path.join(src, "file.txt"), `${id}:/srv/hello.txt`)).code).toBe(0);
    expect(await exec(id, "cat /srv/hello.txt")).toBe("file in\n");

    const created = (await docker("create", env.image, "sh", "-c", "cat /srv/in/file.txt /srv/in/tree/deep/leaf.txt")).stdout.trim();
    expect((await docker("cp", path.join(src, "."), `${created}:/srv/in`)).code).toBe(0);
    const started = await docker("start", "-a", created);
    expect(started.stdout).toBe("file in\nleaf\n");
    // Exited now: copying in still works.
    expect((await docker("cp", path.join(src, "file.txt"), `${created}:/srv/in/again.txt`)).code).toBe(0);
    expect((await sh(`docker cp ${created}:/srv/in/again.txt - | tar -xO`)).stdout).toBe("file in\n");
  });

  it("mounts a stopped container's root filesystem for the copy, and unmounts it after", async () => {
    const id = (await docker("create", env.image, "true")).stdout.trim();
    const rootfs = path.join(env.agent.root, "containers", id, "rootfs");
    const isMounted = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === rootfs);
    for (let i = 0; i < 50 && !isMounted(); i++) await new Promise((r) => setTimeout(r, 100));
    // As after a reboot: the root filesystem is not mounted, and a new agent process runs.
    await env.agent.kill();
    await sh(`umount ${rootfs}`);
    expect(isMounted()).toBe(false);
    await env.agent.restart();
    const read = await sh(`docker cp ${id}:/srv/hello.txt - | tar -xO`);
    expect(read.stdout).toBe("hello from the image\n");
    // Taken down once the answer is out (the client may finish reading first).
    for (let i = 0; i < 50 && isMounted(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(isMounted()).toBe(false);
    // And a start afterwards mounts it as usual.
    expect((await docker("start", "-a", id)).code).toBe(0);
  });

  it("writes under a named volume and a bind mount into their host directories; a read-only mount refuses", async () => {
    const bind = await mkdtemp(path.join(work, "bind-"));
    const volume = `cpvol${randomBytes(3).toString("hex")}`;
    const id = await run("-v", `${volume}:/vol`, "-v", `${bind}:/bound`, "-v", `${bind}:/bound-ro:ro`, env.image, "sleep", "600");
    const src = path.join(work, "to-mounts.txt");
    await writeFile(src, "into a mount\n");

    expect((await docker("cp", src, `${id}:/vol/in-volume.txt`)).code).toBe(0);
    const mountpoint = (await docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume)).stdout.trim();
    expect(readFileSync(path.join(mountpoint, "in-volume.txt"), "utf8")).toBe("into a mount\n");

    expect((await docker("cp", src, `${id}:/bound/in-bind.txt`)).code).toBe(0);
    expect(readFileSync(path.join(bind, "in-bind.txt"), "utf8")).toBe("into a mount\n");
    expect(await exec(id, "cat /bound/in-bind.txt")).toBe("into a mount\n");

    const ro = await docker("cp", src, `${id}:/bound-ro/refused.txt`);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("mounted volume is marked read-only");
    expect(existsSync(path.join(bind, "refused.txt"))).toBe(false);

    // Out of the mounts too, and the per-container /etc/hostname.
    expect((await sh(`docker cp ${id}:/vol/in-volume.txt - | tar -xO`)).stdout).toBe("into a mount\n");
    expect((await sh(`docker cp ${id}:/etc/hostname - | tar -xO`)).stdout).toBe(`${id.slice(0, 12)}\n`);
  });

  it("holds a bind under the deploy policy's allowlist to where its source really leads", async () => {
    const allowed = await mkdtemp(path.join(work, "allowed-"));
    const outside = await mkdtemp(path.join(work, "outside-"));
    await mkdir(path.join(allowed, "data"));
    const created = await env.agent.request("POST", "/v1.43/containers/create", JSON.stringify({ Image: env.image, Cmd: ["true"], HostConfig: { Binds: [`${allowed}/data:/data`] } }), {
      [CONFINEMENT_HEADER]: encodeConfinement({ bindPrefixes: [allowed] }),
    });
    expect(created.status, created.body).toBe(201);
    const id = (JSON.parse(created.body) as { Id: string }).Id;
    const src = path.join(work, "confined.txt");
    await writeFile(src, "confined\n");
    expect((await docker("cp", src, `${id}:/data/in.txt`)).code).toBe(0);
    expect(readFileSync(path.join(allowed, "data/in.txt"), "utf8")).toBe("confined\n");

    // The source is swapped for a symlink leading out of the allowlist: the bind is refused, nothing is written there.
    await rename(path.join(allowed, "data"), path.join(allowed, "data.old"));
    await symlink(outside, path.join(allowed, "data"));
    const refused = await docker("cp", src, `${id}:/data/escaped.txt`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`bind mount of ${allowed}/data is not allowed: it leads to ${outside}`);
    expect(existsSync(path.join(outside, "escaped.txt"))).toBe(false);
    const read = await docker("cp", `${id}:/data/in.txt`, path.join(work, "never.txt"));
    expect(read.code).not.toBe(0);
    expect(existsSync(path.join(work, "never.txt"))).toBe(false);
  });

  it("refuses a non-directory destination, and a destination that isn't there", async () => {
    const id = await run(env.image, "sleep", "600");
    const notDir = await put(id, "/srv/hello.txt", await tarOf([{ name: "x.txt", body: "x" }]));
    expect(notDir.status).toBe(400);
    expect(JSON.parse(notDir.body).message).toBe("extraction point is not a directory");
    const missing = await put(id, "/no/such/dir", await tarOf([{ name: "x.txt", body: "x" }]));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).message).toBe(`Could not find the file /no/such/dir in container ${id}`);
  });

  it("writes through a symlink to /etc into the container's /etc, never the host's", async () => {
    const name = `berth-cp-${randomBytes(4).toString("hex")}`;
    const id = await run(env.image, "sh", "-c", "ln -s /etc /srv/etc && ln -s / /srv/root && sleep 600");
    await exec(id, "test -L /srv/root");
    const src = path.join(work, name);
    await writeFile(src, "planted\n");
    expect((await docker("cp", src, `${id}:/srv/etc/`)).code).toBe(0);
    expect(await exec(id, `cat /etc/${name}`)).toBe("planted\n");
    expect(existsSync(`/etc/${name}`)).toBe(false);
    // An upload whose own symlink points at "/" and whose next entry goes through it: the container's root.
    const viaOwnLink = await put(id, "/srv", await tarOf([{ name: "up", type: "symlink", linkname: "/" }, { name: `up/tmp/${name}`, body: "through the link\n" }]));
    expect(viaOwnLink.status).toBe(200);
    expect(await exec(id, `cat /tmp/${name}`)).toBe("through the link\n");
    expect(existsSync(`/tmp/${name}`)).toBe(false);
  });
});

describe("uploads that reach outside the destination are refused, and write nothing", () => {
  const hostile: Array<[string, (marker: string) => Array<Partial<Header> & { name: string; body?: string }>, RegExp]> = [
    ["a ../ name", (m) => [{ name: "first-ok.txt", body: "ok" }, { name: `../../../../../../../../tmp/${m}`, body: "escaped" }], /path climbs above the destination/],
    ["an absolute name", (m) => [{ name: "first-ok.txt", body: "ok" }, { name: `/tmp/${m}`, body: "escaped" }], /absolute names are not allowed/],
    ["a symlink leading out, then a file through it", (m) => [{ name: "first-ok.txt", body: "ok" }, { name: "out", type: "symlink", linkname: "../../../../../../../../tmp" }, { name: `out/${m}`, body: "escaped" }], /symlink target .* is outside the destination/],
    ["a hardlink to a file outside", (m) => [{ name: "first-ok.txt", body: "ok" }, { name: m, type: "link", linkname: "../../../../../../etc/passwd" }], /hardlink target .* is outside the destination/],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses ${what}`, async () => {
      const marker = `berth-escape-${randomBytes(4).toString("hex")}`;
      const id = await run(env.image, "sleep", "600");
      const r = await put(id, "/srv", await tarOf(entries(marker)));
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).message).toMatch(message);
      // Not on the host, and not in the container either: not even the entry before the refused one.
      expect(existsSync(`/tmp/${marker}`)).toBe(false);
      expect(await exec(id, `ls /tmp/${marker} /srv/first-ok.txt /srv/${marker} 2>/dev/null; echo done`)).toBe("done\n");
    });
  }

  it("keeps a container that swaps its directories for symlinks to / from steering a copy onto the host", async () => {
    // The container flips /srv/d between a directory and a symlink to "/" as fast as it can.
    const id = await run(env.image, "sh", "-c", "mkdir -p /srv/real; while true; do ln -sfn / /srv/d; rm -rf /srv/d; ln -sfn /srv/real /srv/d; rm -rf /srv/d; mkdir -p /srv/d; rm -rf /srv/d; done");
    const names: string[] = [];
    for (let i = 0; i < 25; i++) {
      const name = `berth-race-${randomBytes(4).toString("hex")}`;
      names.push(name);
      await put(id, "/srv", await tarOf([{ name: "d", type: "directory" }, { name: `d/etc/${name}`, body: "raced" }, { name: `d/${name}`, body: "raced" }]));
      await docker("cp", `${id}:/srv/d/`, path.join(work, `race-out-${i}`));
    }
    for (const name of names) {
      expect(existsSync(`/etc/${name}`)).toBe(false);
      expect(existsSync(`/${name}`)).toBe(false);
    }
  });
});

describe("docker export", () => {
  it("streams the container's whole filesystem as a tar, without what is mounted on it", async () => {
    const id = await run("-v", "/mnt/vol", env.image, "sh", "-c", "echo exported > /srv/made-here.txt && echo hidden > /mnt/vol/in-volume.txt && sleep 600");
    await exec(id, "test -f /mnt/vol/in-volume.txt");
    const listed = await sh(`docker export ${id} | tar -t`);
    expect(listed.code).toBe(0);
    const names = listed.stdout.split("\n");
    expect(names).toContain("bin/busybox");
    expect(names).toContain("etc/passwd");
    expect(names).toContain("srv/made-here.txt");
    expect(names).toContain("srv/hello.txt");
    expect(names.some((n) => n.includes("in-volume.txt"))).toBe(false);
    const content = await sh(`docker export ${id} | tar -xO srv/made-here.txt`);
    expect(content.stdout).toBe("exported\n");

    expect((await docker("stop", "-t", "0", id)).code).toBe(0);
    // A HEAD is answered without the archive (nor a walk of the filesystem).
    const head = await env.agent.request("HEAD", `/v1.43/containers/${id}/export`);
    expect(head.status).toBe(200);
    expect(head.headers["content-type"]).toBe("application/x-tar");
    expect((await env.agent.request("HEAD", "/v1.43/containers/no-such-container/export")).status).toBe(404);
    const out = path.join(work, "exported.tar");
    expect((await docker("export", "-o", out, id)).code).toBe(0);
    expect(await namesIn(await readFile(out))).toContain("srv/made-here.txt");
  });
});
