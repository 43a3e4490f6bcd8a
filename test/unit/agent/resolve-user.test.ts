import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ID_FILE_BYTES, resolveUser, UserResolveError } from "../../../agent/engine/resolve-user";

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

  nginx:x:101:101:nginx user:/nonexistent:/bin/false
app:x:1000:1000::/home/app:/bin/sh
dup:x:1001:1001::/a:/bin/sh
dup:x:1002:1002::/b:/bin/sh
42:x:4242:4242::/numeric-name:/bin/sh
`;
const GROUP = `root:x:0:root
wheel:x:10:root,app
nginx:x:101:
app:x:1000:
docker:x:999:app,nginx
staff:x:50:
`;

async function makeRoot(parent: string, name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(parent, name);
  await mkdir(path.join(root, "etc"), { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(root, file), content);
  return root;
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserResolveError);
    expect((err as UserResolveError).code).toBe("INVALID");
    return (err as Error).message;
  }
  throw new Error("expected a UserResolveError");
}

describe("resolveUser", () => {
  let parent: string;
  let rootfs: string;
  let bare: string;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), "berth-resolveuser-"));
    rootfs = await makeRoot(parent, "rootfs", { "etc/passwd": PASSWD, "etc/group": GROUP });
    bare = await makeRoot(parent, "bare", {});
  });
  afterAll(async () => rm(parent, { recursive: true, force: true }));

  it('"" is root, with root\'s supplementary groups; the primary gid comes first', async () => {
    expect(await resolveUser(rootfs, "")).toEqual({ uid: 0, gid: 0, additionalGids: [0, 0, 10], home: "/root" });
  });

  it("a name takes uid, gid and home from passwd and the groups listing it", async () => {
    expect(await resolveUser(rootfs, "app")).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 999], home: "/home/app" });
    expect(await resolveUser(rootfs, "nginx")).toMatchObject({ uid: 101, gid: 101, additionalGids: [101, 999] });
  });

  it("a uid with a passwd entry behaves like its name", async () => {
    expect(await resolveUser(rootfs, "1000")).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 999] });
  });

  it("a uid without a passwd entry gets gid 0 and no supplementary groups", async () => {
    expect(await resolveUser(rootfs, "12345")).toEqual({ uid: 12345, gid: 0, additionalGids: [0] });
  });

  it("a numeric spec is always a uid, never a name", async () => {
    // "42" is also a user name in the file (uid 4242); runc treats the spec as uid 42.
    expect(await resolveUser(rootfs, "42")).toEqual({ uid: 42, gid: 0, additionalGids: [0] });
  });

  it("the first matching passwd entry wins", async () => {
    expect(await resolveUser(rootfs, "dup")).toMatchObject({ uid: 1001, gid: 1001, home: "/a" });
  });

  it("an explicit group replaces the primary gid and drops supplementary groups", async () => {
    expect(await resolveUser(rootfs, "app:staff")).toEqual({ uid: 1000, gid: 50, additionalGids: [50], home: "/home/app" });
    expect(await resolveUser(rootfs, "app:999")).toMatchObject({ uid: 1000, gid: 999, additionalGids: [999] });
    expect(await resolveUser(rootfs, "1000:1000")).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [1000] });
    expect(await resolveUser(rootfs, "5000:nginx")).toEqual({ uid: 5000, gid: 101, additionalGids: [101] });
    expect(await resolveUser(rootfs, "5000:6000")).toEqual({ uid: 5000, gid: 6000, additionalGids: [6000] });
    expect(await resolveUser(rootfs, ":staff")).toMatchObject({ uid: 0, gid: 50, additionalGids: [50] });
  });

  it("ignores fields after the second colon", async () => {
    expect(await resolveUser(rootfs, "app:staff:extra")).toMatchObject({ uid: 1000, gid: 50 });
  });

  it("refuses unknown names like runc", async () => {
    expect(await errorOf(resolveUser(rootfs, "nobody"))).toBe("unable to find user nobody: no matching entries in passwd file");
    expect(await errorOf(resolveUser(rootfs, "app:nogroup"))).toBe(
      "unable to find group nogroup: no matching entries in group file",
    );
  });

  it("refuses ids out of range", async () => {
    expect(await errorOf(resolveUser(rootfs, "-1"))).toBe("uids and gids must be in range 0-2147483647");
    expect(await errorOf(resolveUser(rootfs, "1:2147483648"))).toBe("uids and gids must be in range 0-2147483647");
  });

  it("without passwd/group files, numeric ids work and names don't", async () => {
    expect(await resolveUser(bare, "")).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(await resolveUser(bare, "1000")).toEqual({ uid: 1000, gid: 0, additionalGids: [0] });
    expect(await resolveUser(bare, "1000:1000")).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000] });
    expect(await errorOf(resolveUser(bare, "app"))).toBe("unable to find user app: no matching entries in passwd file");
    expect(await errorOf(resolveUser(bare, "1000:app"))).toBe("unable to find group app: no matching entries in group file");
  });

  it("adds HostConfig.GroupAdd groups by name or number", async () => {
    expect(await resolveUser(rootfs, "app", ["staff", "4000", "101"])).toMatchObject({
      additionalGids: [1000, 10, 999, 50, 4000, 101],
    });
    expect(await errorOf(resolveUser(rootfs, "app", ["nogroup"]))).toBe(
      "Unable to find group nogroup: no matching entries in group file",
    );
  });

  describe("reads the container's files, never the host's", () => {
    let hostDir: string;
    beforeAll(async () => {
      // A fake "host" passwd beside the rootfs, which escaping symlinks would reach.
      hostDir = path.join(parent, "host", "etc");
      await mkdir(hostDir, { recursive: true });
      await writeFile(path.join(hostDir, "passwd"), "evil:x:0:0::/:/bin/sh\n");
      await writeFile(path.join(hostDir, "group"), "evilgroup:x:0:evil\n");
    });

    it("an absolute symlink to /etc/passwd is resolved inside the rootfs", async () => {
      const root = await makeRoot(parent, "abs-link", { "real-passwd": "app:x:1000:1000::/home/app:/bin/sh\n" });
      await symlink("/real-passwd", path.join(root, "etc/passwd"));
      expect(await resolveUser(root, "app")).toMatchObject({ uid: 1000, gid: 1000 });
    });

    it("a ../ symlink escape lands inside the rootfs (so host entries are not found)", async () => {
      const root = await makeRoot(parent, "escape", {});
      const depth = path.relative(path.join(root, "etc"), path.join(parent, "host/etc/passwd"));
      await symlink(depth, path.join(root, "etc/passwd")); // ../../host/etc/passwd
      await symlink("/../../host/etc/group", path.join(root, "etc/group"));
      expect(await errorOf(resolveUser(root, "evil"))).toBe("unable to find user evil: no matching entries in passwd file");
      expect(await errorOf(resolveUser(root, "0:evilgroup"))).toBe(
        "unable to find group evilgroup: no matching entries in group file",
      );
      // It would resolve inside: the same path below the rootfs is used when present.
      await mkdir(path.join(root, "host/etc"), { recursive: true });
      await writeFile(path.join(root, "host/etc/passwd"), "inside:x:7:7::/:/bin/sh\n");
      expect(await resolveUser(root, "inside")).toMatchObject({ uid: 7, gid: 7 });
    });

    it("a symlinked /etc directory is resolved inside the rootfs too", async () => {
      const root = path.join(parent, "etc-link");
      await mkdir(path.join(root, "alt"), { recursive: true });
      await writeFile(path.join(root, "alt/passwd"), "svc:x:300:300::/:/bin/sh\n");
      await symlink("/alt", path.join(root, "etc"));
      expect(await resolveUser(root, "svc")).toMatchObject({ uid: 300, gid: 300 });
    });

    it("treats a non-regular /etc/passwd (directory, FIFO) as absent", async () => {
      const root = await makeRoot(parent, "weird", {});
      await mkdir(path.join(root, "etc/passwd"));
      execFileSync("mkfifo", [path.join(root, "etc/group")]);
      expect(await resolveUser(root, "1000:1000")).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000] });
      expect(await errorOf(resolveUser(root, "app"))).toBe("unable to find user app: no matching entries in passwd file");
    });
  });

  it("refuses a passwd file above the size limit", async () => {
    const root = await makeRoot(parent, "huge", {
      "etc/passwd": "root:x:0:0::/root:/bin/sh\n" + "#".repeat(MAX_ID_FILE_BYTES) + "\n",
    });
    const message = await errorOf(resolveUser(root, "root"));
    expect(message).toMatch(/\/etc\/passwd in the container is too large/);
  });
});
