import { describe, expect, it } from "vitest";
import { collectMounts, MountError, type MountSpec, parseApiMount, parseBind, parseTmpfs } from "../../../lib/docker/mounts";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MountError);
    expect((err as MountError).code).toBe("INVALID");
    return (err as Error).message;
  }
  throw new Error("expected a MountError");
}

const base = { readOnly: false, tmpfsOptions: [], createHostPath: false, copyUp: false, anonymous: false };

describe("parseBind", () => {
  it("parses a named volume", () => {
    expect(parseBind("data:/data")).toEqual<MountSpec>({ ...base, type: "volume", source: "data", destination: "/data", copyUp: true });
  });

  it("parses a read-only named volume", () => {
    const m = parseBind("data:/data:ro");
    expect(m).toMatchObject({ type: "volume", source: "data", destination: "/data", readOnly: true, copyUp: true, anonymous: false });
  });

  it("treats rw as writable", () => {
    expect(parseBind("data:/data:rw").readOnly).toBe(false);
  });

  it("parses a host bind, creating the host path", () => {
    expect(parseBind("/host:/ctr")).toEqual<MountSpec>({ ...base, type: "bind", source: "/host", destination: "/ctr", createHostPath: true });
  });

  it("parses a bind with several modes", () => {
    expect(parseBind("/host:/ctr:ro,z")).toMatchObject({ type: "bind", source: "/host", destination: "/ctr", readOnly: true, copyUp: false, createHostPath: true });
  });

  it("normalises source and destination paths", () => {
    const m = parseBind("/host//a/../b:/ctr/./x");
    expect(m.source).toBe("/host/b");
    expect(m.destination).toBe("/ctr/x");
  });

  it("makes an anonymous volume from a bare destination", () => {
    expect(parseBind("/anon")).toEqual<MountSpec>({ ...base, type: "volume", source: "", destination: "/anon", copyUp: true, anonymous: true });
  });

  it("accepts an anonymous volume with a mode", () => {
    expect(parseBind("/anon:ro")).toMatchObject({ type: "volume", source: "", destination: "/anon", readOnly: true, anonymous: true });
  });

  it("disables copy-up with nocopy", () => {
    expect(parseBind("data:/data:nocopy")).toMatchObject({ type: "volume", source: "data", copyUp: false });
  });

  it("refuses a relative destination", () => {
    const msg = errorOf(() => parseBind("data:rel/path:ro"));
    expect(msg).toContain("must be absolute");
    expect(msg).toContain("'rel/path'");
    expect(errorOf(() => parseBind("relative"))).toContain("must be absolute");
  });

  it("refuses / as destination", () => {
    expect(errorOf(() => parseBind("data:/"))).toContain("destination can't be '/'");
    expect(errorOf(() => parseBind("/host:/a/.."))).toContain("destination can't be '/'");
  });

  it("refuses an unknown mode", () => {
    expect(errorOf(() => parseBind("data:/d:xyz"))).toBe("invalid mode: xyz");
    expect(errorOf(() => parseBind("data:/d:ro,bad"))).toBe("invalid mode: bad");
  });

  it.each(["a:/b:ro:extra", "", ":/data", "data:", "data::ro", "data:/d:", "/a:/b:ro,z:x"])("refuses the malformed spec %j", (spec) => {
    expect(errorOf(() => parseBind(spec))).toBe(`invalid volume specification: '${spec}'`);
  });
});

describe("parseApiMount", () => {
  it("parses a bind mount, without creating the host path", () => {
    expect(parseApiMount({ Type: "bind", Source: "/srv//x", Target: "/x", ReadOnly: true })).toEqual<MountSpec>({
      ...base,
      type: "bind",
      source: "/srv/x",
      destination: "/x",
      readOnly: true,
    });
  });

  it("requires an absolute bind Source", () => {
    expect(errorOf(() => parseApiMount({ Type: "bind", Source: "rel", Target: "/x" }))).toContain("'rel' mount path must be absolute");
    expect(errorOf(() => parseApiMount({ Type: "bind", Target: "/x" }))).toContain("'' mount path must be absolute");
  });

  it("parses a named volume, defaulting the type to volume", () => {
    expect(parseApiMount({ Source: "v1", Target: "/v" })).toEqual<MountSpec>({ ...base, type: "volume", source: "v1", destination: "/v", copyUp: true });
  });

  it("makes an anonymous volume without Source", () => {
    expect(parseApiMount({ Type: "volume", Target: "/v" })).toMatchObject({ type: "volume", source: "", anonymous: true, copyUp: true });
  });

  it("honours VolumeOptions.NoCopy", () => {
    expect(parseApiMount({ Type: "volume", Source: "v", Target: "/v", VolumeOptions: { NoCopy: true } }).copyUp).toBe(false);
  });

  it("parses tmpfs size and octal mode", () => {
    const m = parseApiMount({ Type: "tmpfs", Target: "/run", TmpfsOptions: { SizeBytes: 67108864, Mode: 0o1777 } });
    expect(m).toEqual<MountSpec>({ ...base, type: "tmpfs", source: "", destination: "/run", tmpfsOptions: ["size=67108864", "mode=1777"] });
  });

  it("parses tmpfs without options", () => {
    expect(parseApiMount({ Type: "tmpfs", Target: "/tmp" }).tmpfsOptions).toEqual([]);
    expect(parseApiMount({ Type: "tmpfs", Target: "/tmp", TmpfsOptions: { Mode: 0o700 } }).tmpfsOptions).toEqual(["mode=700"]);
  });

  it("refuses a tmpfs Source", () => {
    expect(errorOf(() => parseApiMount({ Type: "tmpfs", Source: "x", Target: "/t" }))).toContain("field Source must not be specified");
  });

  it("refuses unknown types", () => {
    expect(errorOf(() => parseApiMount({ Type: "npipe", Target: "/x" }))).toContain('mount type "npipe" is not supported');
  });

  it("refuses a missing Target", () => {
    expect(errorOf(() => parseApiMount({ Type: "volume", Source: "v" }))).toContain("field Target must not be empty");
    expect(errorOf(() => parseApiMount({ Type: "bind", Source: "/a", Target: "" }))).toContain("field Target must not be empty");
  });

  it("refuses a relative or root Target", () => {
    expect(errorOf(() => parseApiMount({ Type: "volume", Target: "x" }))).toContain('type "volume"');
    expect(errorOf(() => parseApiMount({ Type: "tmpfs", Target: "/" }))).toContain("destination can't be '/'");
  });
});

describe("parseTmpfs", () => {
  it("splits the options", () => {
    expect(parseTmpfs("/run", "size=64m,mode=1777")).toEqual<MountSpec>({ ...base, type: "tmpfs", source: "", destination: "/run", tmpfsOptions: ["size=64m", "mode=1777"] });
  });

  it("accepts empty options", () => {
    expect(parseTmpfs("/tmp", "").tmpfsOptions).toEqual([]);
  });

  it("checks the destination", () => {
    expect(errorOf(() => parseTmpfs("tmp", ""))).toContain('type "tmpfs"');
    expect(errorOf(() => parseTmpfs("/", ""))).toContain("destination can't be '/'");
  });
});

describe("collectMounts", () => {
  const none = { binds: [], mounts: [], tmpfs: {}, imageVolumes: [] };

  it("returns nothing for nothing", () => {
    expect(collectMounts(none)).toEqual([]);
  });

  it("keeps binds, mounts and tmpfs in that order", () => {
    const out = collectMounts({ binds: ["data:/data"], mounts: [{ Type: "bind", Source: "/etc/x", Target: "/x" }], tmpfs: { "/run": "size=1m" }, imageVolumes: [] });
    expect(out.map((m) => [m.type, m.destination])).toEqual([
      ["volume", "/data"],
      ["bind", "/x"],
      ["tmpfs", "/run"],
    ]);
  });

  it("refuses duplicate destinations across sources", () => {
    expect(errorOf(() => collectMounts({ ...none, binds: ["a:/x", "b:/x"] }))).toBe("Duplicate mount point: /x");
    expect(errorOf(() => collectMounts({ ...none, binds: ["a:/x"], mounts: [{ Type: "volume", Target: "/x" }] }))).toBe("Duplicate mount point: /x");
    expect(errorOf(() => collectMounts({ ...none, mounts: [{ Type: "tmpfs", Target: "/x" }], tmpfs: { "/x": "" } }))).toBe("Duplicate mount point: /x");
    expect(errorOf(() => collectMounts({ ...none, binds: ["a:/x/y/.."], tmpfs: { "/x": "" } }))).toBe("Duplicate mount point: /x");
  });

  it("adds image VOLUMEs as anonymous copy-up volumes only where nothing is mounted", () => {
    const out = collectMounts({ ...none, binds: ["data:/data"], imageVolumes: ["/data", "/var/lib/db", "/cache/./x"] });
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ source: "data", destination: "/data", anonymous: false });
    expect(out[1]).toEqual<MountSpec>({ ...base, type: "volume", source: "", destination: "/var/lib/db", copyUp: true, anonymous: true });
    expect(out[2]!.destination).toBe("/cache/x");
  });

  it("does not duplicate repeated image VOLUMEs", () => {
    const out = collectMounts({ ...none, imageVolumes: ["/v", "/v", "/w/../v"] });
    expect(out.map((m) => m.destination)).toEqual(["/v"]);
  });

  it("lets a normalised mount destination shadow an image VOLUME", () => {
    const out = collectMounts({ ...none, tmpfs: { "/a/./b": "" }, imageVolumes: ["/a/b"] });
    expect(out).toHaveLength(1);
    expect(out[0]!.type).toBe("tmpfs");
  });
});

describe("mount points with a trailing slash", () => {
  it("are the same mount point as without", () => {
    expect(parseBind("v:/data/").destination).toBe("/data");
    expect(() => collectMounts({ binds: ["a:/data", "b:/data/"], mounts: [], tmpfs: {}, imageVolumes: [] })).toThrow("Duplicate mount point: /data");
    expect(collectMounts({ binds: ["a:/data"], mounts: [], tmpfs: {}, imageVolumes: ["/data/"] })).toHaveLength(1);
  });
});
