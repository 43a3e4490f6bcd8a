import { describe, expect, it } from "vitest";
import { collectMounts, inheritMounts, type MountSpec, parseBind, parseVolumesFrom } from "../../../lib/docker/mounts";

// --volumes-from: parsing "container[:mode]" as moby's ParseVolumesFrom, and what a source lends.

describe("parseVolumesFrom", () => {
  it("takes a container with an optional ro/rw (and z/Z) mode", () => {
    expect(parseVolumesFrom("data")).toEqual({ container: "data", readOnly: false });
    expect(parseVolumesFrom("data:ro")).toEqual({ container: "data", readOnly: true });
    expect(parseVolumesFrom("data:rw")).toEqual({ container: "data", readOnly: false });
    expect(parseVolumesFrom("data:ro,z")).toEqual({ container: "data", readOnly: true });
  });

  it("refuses what dockerd refuses", () => {
    expect(() => parseVolumesFrom("")).toThrow("volumes-from specification cannot be an empty string");
    expect(() => parseVolumesFrom("data:rx")).toThrow("invalid mode: rx");
    expect(() => parseVolumesFrom("data:nocopy")).toThrow("invalid mode: nocopy");
    expect(() => parseVolumesFrom("data:rshared")).toThrow("invalid mode: rshared");
    expect(() => parseVolumesFrom("data:ro,rw")).toThrow("invalid mode: ro,rw");
  });
});

describe("inheritMounts", () => {
  const mounts: MountSpec[] = [
    { ...parseBind("shared:/named"), source: "shared" },
    { ...parseBind("/anon"), source: "a".repeat(64) },
    { ...parseBind("/srv/x:/bind:ro") },
    { type: "tmpfs", source: "", destination: "/scratch", readOnly: false, tmpfsOptions: [], createHostPath: false, copyUp: false, anonymous: false },
  ];

  it("lends volumes and binds (not tmpfs), marked as the source's, never copied into", () => {
    const lent = inheritMounts({ id: "src", mounts }, false);
    expect(lent.map((m) => [m.destination, m.readOnly, m.from, m.copyUp])).toEqual([
      ["/named", false, "src", false],
      ["/anon", false, "src", false],
      ["/bind", true, "src", false],
    ]);
    expect(inheritMounts({ id: "src", mounts }, true).every((m) => m.readOnly)).toBe(true);
  });

  it("binds carry every allowlist they were held to; a mount lent twice stays its first owner's", () => {
    const once = inheritMounts({ id: "a", mounts, bindPrefixes: ["/srv"] }, false);
    const twice = inheritMounts({ id: "b", mounts: once, bindPrefixes: ["/srv/x"] }, false);
    expect(twice.find((m) => m.destination === "/bind")).toMatchObject({ from: "a", bindPrefixes: [["/srv"], ["/srv/x"]] });
    expect(twice.find((m) => m.destination === "/named")!.bindPrefixes).toBeUndefined();
  });

  it("a request's own mount replaces a lent one at the same place; two of its own there still clash", () => {
    const lent = inheritMounts({ id: "src", mounts }, false);
    const out = collectMounts({ binds: ["own:/named"], mounts: [], tmpfs: {}, imageVolumes: ["/anon", "/fresh"], inherited: lent });
    expect(out.map((m) => [m.destination, m.source, m.from])).toEqual([
      ["/anon", "a".repeat(64), "src"],
      ["/bind", "/srv/x", "src"],
      ["/named", "own", undefined],
      ["/fresh", "", undefined],
    ]);
    expect(() => collectMounts({ binds: ["a:/named", "b:/named"], mounts: [], tmpfs: {}, imageVolumes: [], inherited: lent })).toThrow("Duplicate mount point: /named");
  });
});
