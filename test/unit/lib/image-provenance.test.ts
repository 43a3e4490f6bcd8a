import { describe, expect, it } from "vitest";
import { CONFINEMENT_HEADER, decodeConfinement, encodeConfinement, isConfining } from "../../../lib/confinement";
import { judgeProvenance, madeFrom, pulledFrom, requirementsOf } from "../../../lib/image-provenance";

describe("image provenance", () => {
  it("admits a pulled image when any registry it came from is allowed (Docker Hub's aliases included)", () => {
    const p = pulledFrom(pulledFrom(undefined, "evil.example"), "registry-1.docker.io");
    expect(p.registries).toEqual(["docker.io", "evil.example"]);
    expect(judgeProvenance(p, ["docker.io"])).toEqual({ ok: true });
    expect(judgeProvenance(p, ["other.example"])).toEqual({ ok: false, why: "its content came from docker.io, evil.example" });
    expect(judgeProvenance(p, [])).toEqual({ ok: true });
  });

  it("judges a made image by every image its content came from", () => {
    const base = pulledFrom(undefined, "reg.example");
    const other = pulledFrom(undefined, "evil.example");
    const built = madeFrom("build", [base, other]);
    expect(built.inputs).toEqual([["reg.example"], ["evil.example"]]);
    expect(judgeProvenance(built, ["reg.example"])).toEqual({ ok: false, why: "it was made on the host (build) from an image from evil.example" });
    expect(judgeProvenance(built, ["reg.example", "evil.example"])).toEqual({ ok: true });
    // A step on top of a made image inherits its requirements, not its name.
    expect(requirementsOf(madeFrom("commit", [built]))).toEqual([["reg.example"], ["evil.example"]]);
  });

  it("never admits content with no registry origin, or an unknown origin", () => {
    expect(judgeProvenance(madeFrom("build", []), ["reg.example"]).ok).toBe(false);
    expect(judgeProvenance({ registries: [], made: "load" }, ["reg.example"])).toEqual({ ok: false, why: "it was loaded from an archive on the host, not pulled from a registry" });
    expect(judgeProvenance(madeFrom("commit", [{ registries: [], made: "load" }]), ["reg.example"]).ok).toBe(false);
    expect(judgeProvenance(undefined, ["reg.example"]).ok).toBe(false);
  });
});

describe("confinement header", () => {
  it("round-trips any UTF-8 path through a header-safe value", () => {
    const c = { registries: ["docker.io"], bindPrefixes: ["/srv/dåta ü"] };
    const value = encodeConfinement(c);
    expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeConfinement(value)).toEqual(c);
    expect(CONFINEMENT_HEADER).toBe("x-berth-confinement");
  });

  it("refuses what isn't one", () => {
    expect(() => decodeConfinement("%%%")).toThrow(/not base64url/);
    expect(() => decodeConfinement(encodeURIComponent("x"))).toThrow(/invalid x-berth-confinement header/);
    expect(() => decodeConfinement(btoa(JSON.stringify({ bindPrefixes: ["relative"] })).replace(/=+$/, ""))).toThrow(/absolute path/);
    expect(() => decodeConfinement(btoa(JSON.stringify({ extra: 1 })).replace(/=+$/, ""))).toThrow(/invalid x-berth-confinement header/);
  });

  it("says whether it limits anything", () => {
    expect(isConfining({})).toBe(false);
    expect(isConfining({ registries: [] })).toBe(false);
    expect(isConfining({ bindPrefixes: [] })).toBe(true);
  });
});
