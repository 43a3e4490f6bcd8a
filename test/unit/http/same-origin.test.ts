import { describe, expect, it } from "vitest";
import { publicOrigin, sameOriginPath } from "../../../server/http/same-origin";

const ORIGIN = "http://127.0.0.1:3000";

describe("sameOriginPath", () => {
  it.each([
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example",
    "/%5Cevil.example/x",
    "/%5cevil.example/x",
    "/%255Cevil.example/x",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "/\u0085/x",
    "https://evil.example/x",
    "http://127.0.0.1:3000/hosts",
    "javascript:alert(1)",
    "evil.example",
    " /hosts",
    "",
    "/%E0%A4%A",
    "/%25252525Cevil",
    `/${"a".repeat(3000)}`,
  ])("refuses %j", (raw) => {
    expect(sameOriginPath(raw, ORIGIN)).toBeNull();
  });

  it("refuses what isn't a string", () => {
    expect(sameOriginPath(undefined, ORIGIN)).toBeNull();
    expect(sameOriginPath(["/hosts"], ORIGIN)).toBeNull();
  });

  it.each([
    ["/", "/"],
    ["/hosts", "/hosts"],
    ["/audit?outcome=denied&q=a%20b", "/audit?outcome=denied&q=a%20b"],
    ["/containers?next=//x", "/containers?next=//x"],
    ["/hosts/../audit", "/audit"],
    ["/hosts#top", "/hosts#top"],
  ])("keeps %j as %j", (raw, path) => {
    expect(sameOriginPath(raw, ORIGIN)).toBe(path);
  });
});

describe("publicOrigin", () => {
  it("is BERTH_PUBLIC_URL's origin when set, else http://HOST:PORT", () => {
    expect(publicOrigin({ BERTH_PUBLIC_URL: "https://berth.example/console/", HOST: "0.0.0.0", PORT: 3000 })).toBe("https://berth.example");
    expect(publicOrigin({ BERTH_PUBLIC_URL: undefined, HOST: "127.0.0.1", PORT: 3000 })).toBe("http://127.0.0.1:3000");
    expect(publicOrigin({ BERTH_PUBLIC_URL: undefined, HOST: "::1", PORT: 8080 })).toBe("http://[::1]:8080");
  });
});
