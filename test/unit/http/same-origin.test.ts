import { describe, expect, it } from "vitest";
import { auditActionsFor } from "../../../server/http/cross-origin-guard";
import { judgeOrigin, publicOrigin, sameOriginPath, type OriginSettings } from "../../../server/http/same-origin";

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

describe("judgeOrigin", () => {
  const local: OriginSettings = { BERTH_PUBLIC_URL: undefined, HOST: "127.0.0.1", PORT: 3000 };
  const judged = (evidence: Partial<Parameters<typeof judgeOrigin>[0]>, settings = local) =>
    judgeOrigin({ method: "POST", origin: null, secFetchSite: null, host: "127.0.0.1:3000", ...evidence }, settings).ok;

  it("accepts the public origin and, without BERTH_PUBLIC_URL, the addressed host over http or https", () => {
    expect(judged({ origin: "http://127.0.0.1:3000" })).toBe(true);
    expect(judged({ origin: "http://berth.lan:8080", host: "berth.lan:8080" })).toBe(true);
    expect(judged({ origin: "https://berth.lan", host: "berth.lan" })).toBe(true);
  });

  it("refuses other ports, other names, opaque and malformed origins", () => {
    expect(judged({ origin: "http://127.0.0.1:3001" })).toBe(false);
    expect(judged({ origin: "http://localhost:3000" })).toBe(false);
    expect(judged({ origin: "null" })).toBe(false);
    expect(judged({ origin: "not a url" })).toBe(false);
    expect(judged({ origin: "file://" })).toBe(false);
  });

  it("with BERTH_PUBLIC_URL, accepts exactly its origin", () => {
    const behindProxy = { BERTH_PUBLIC_URL: "https://berth.example/", HOST: "0.0.0.0", PORT: 3000 };
    expect(judged({ origin: "https://berth.example", host: "berth.example" }, behindProxy)).toBe(true);
    expect(judged({ origin: "http://10.0.0.5:3000", host: "10.0.0.5:3000" }, behindProxy)).toBe(false);
    expect(judged({ origin: "http://berth.example", host: "berth.example" }, behindProxy)).toBe(false);
  });

  it("without Origin, takes Sec-Fetch-Site same-origin, 'none' only for safe methods, and fails closed on neither", () => {
    expect(judged({ secFetchSite: "same-origin" })).toBe(true);
    expect(judged({ secFetchSite: "same-site" })).toBe(false);
    expect(judged({ secFetchSite: "cross-site" })).toBe(false);
    expect(judged({ secFetchSite: "none" })).toBe(false);
    expect(judged({ secFetchSite: "none", method: "GET" })).toBe(true);
    expect(judged({})).toBe(false);
    expect(judged({ method: "GET" })).toBe(false);
  });

  it("lets Origin decide over Sec-Fetch-Site", () => {
    expect(judged({ origin: "http://127.0.0.1:9", secFetchSite: "same-origin" })).toBe(false);
  });
});

describe("auditActionsFor", () => {
  it("names tRPC procedures, Auth.js posts and server actions", () => {
    expect(auditActionsFor("/api/trpc/hosts.addLocal")).toEqual(["hosts.addLocal"]);
    expect(auditActionsFor("/api/trpc/roles.create,users.create")).toEqual(["roles.create", "users.create"]);
    expect(auditActionsFor("/api/trpc/%3Cscript%3E")).toEqual(["trpc.unknown"]);
    expect(auditActionsFor("/api/auth/callback/credentials")).toEqual(["auth.sign_in"]);
    expect(auditActionsFor("/api/auth/signout")).toEqual(["auth.sign_out"]);
    expect(auditActionsFor("/hosts")).toEqual(["server_action"]);
    expect(auditActionsFor("/api/health")).toEqual(["http.request"]);
  });
});
