import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SYMLINK_EXPANSIONS, resolveInRoot, SymlinkLoopError } from "../../../agent/snapshots/secure-path";

describe("resolveInRoot: paths resolved as if the root were /", () => {
  let parent: string;
  let root: string;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), "berth-securepath-"));
    root = path.join(parent, "root");
    await mkdir(path.join(root, "a/b"), { recursive: true });
    await mkdir(path.join(root, "d/sub"), { recursive: true });
    await writeFile(path.join(root, "file"), "x");
    await symlink("/", path.join(root, "to-slash"));
    await symlink("../../../../..", path.join(root, "a/b/escape"));
    await symlink("/usr/lib", path.join(root, "abs"));
    await symlink("c2", path.join(root, "c1"));
    await symlink("../../outside", path.join(root, "c2"));
    await symlink("d/sub", path.join(root, "to-sub"));
    await symlink("loop2", path.join(root, "loop1"));
    await symlink("loop1", path.join(root, "loop2"));
    await symlink("self/x", path.join(root, "self"));
    await symlink("/var/lib/host", path.join(root, "host-abs"));
    // A chain exactly at the bound resolves; one more is a loop.
    for (let i = 0; i < MAX_SYMLINK_EXPANSIONS; i++) await symlink(`n${i + 1}`, path.join(root, `n${i}`));
  });
  afterAll(async () => rm(parent, { recursive: true, force: true }));

  it.each([
    ["a/b", "a/b"],
    ["./a//b/", "a/b"],
    ["", ""],
    ["/", ""],
    ["../../etc/passwd", "etc/passwd"],
    ["/etc/passwd", "etc/passwd"],
    ["a/../../b", "b"],
    ["/../../../x", "x"],
    ["to-slash/etc/x", "etc/x"],
    ["to-slash/../../etc/x", "etc/x"],
    ["a/b/escape/etc/x", "etc/x"],
    ["abs/x", "usr/lib/x"],
    ["c1/x", "outside/x"],
    ["to-sub/../f", "d/f"],
    ["host-abs/x", "var/lib/host/x"],
    ["missing/deeper/f", "missing/deeper/f"],
    ["file/x", "file/x"],
    ["n0/x", `n${MAX_SYMLINK_EXPANSIONS}/x`],
  ])("%j -> root/%s", async (unsafe, expected) => {
    expect(await resolveInRoot(root, unsafe)).toBe(path.join(root, expected));
  });

  it("does not follow the final component unless asked", async () => {
    expect(await resolveInRoot(root, "to-slash")).toBe(path.join(root, "to-slash"));
    expect(await resolveInRoot(root, "to-slash", { followFinal: true })).toBe(root);
    expect(await resolveInRoot(root, "a/b/escape", { followFinal: true })).toBe(root);
    expect(await resolveInRoot(root, "c1", { followFinal: true })).toBe(path.join(root, "outside"));
  });

  // The last case walks the chain twice: MAX + 1 expansions in one resolution.
  it.each([["loop1/x"], ["self/y"], ["n0/../n0/x"]])("%j is a symlink loop", async (unsafe) => {
    await expect(resolveInRoot(root, unsafe)).rejects.toBeInstanceOf(SymlinkLoopError);
  });

  it("reports a loop in the final component only when following it", async () => {
    expect(await resolveInRoot(root, "loop1")).toBe(path.join(root, "loop1"));
    await expect(resolveInRoot(root, "loop1", { followFinal: true })).rejects.toMatchObject({ code: "ELOOP" });
  });
});
