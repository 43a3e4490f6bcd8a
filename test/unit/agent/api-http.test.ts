import { describe, expect, it } from "vitest";
import { ApiError, toApiError } from "../../../agent/api/errors";
import { type Handler, query, Router } from "../../../agent/api/http";
import { credentialsForRequest, decodeRegistryAuth, withRegistryAuth } from "../../../agent/api/registry-auth";
import { frame, STDERR, STDOUT, SYSERR } from "../../../agent/api/streams";
import { CreateRequestError } from "../../../lib/docker/create-request";
import { EngineError } from "../../../agent/engine/errors";
import { ImageError } from "../../../agent/images/errors";
import { SpecError } from "../../../agent/runtime/spec-error";

const h = (name: string): Handler => Object.assign(() => {}, { label: name });

function routed(m: ReturnType<Router["match"]>): { handler: Handler; params: string[] } {
  if (!m || !("handler" in m)) throw new Error(`expected a route, got ${JSON.stringify(m)}`);
  return m;
}

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("expected an ApiError");
}

describe("Router", () => {
  const inspect = h("inspect");
  const start = h("start");
  const remove = h("remove");
  const imageInspect = h("imageInspect");
  const imagePush = h("imagePush");
  const ping = h("ping");
  const list = h("list");
  const router = new Router()
    .add("GET", "/_ping", ping)
    .add("GET", "/containers/json", list)
    .add("GET", "/containers/{id}/json", inspect)
    .add("POST", "/containers/{id}/start", start)
    .add("DELETE", "/containers/{id}", remove)
    .add("GET", "/images/{name*}/json", imageInspect)
    .add("POST", "/images/{name*}/push", imagePush);

  it("matches a route without params", () => {
    expect(routed(router.match("GET", "/_ping"))).toEqual({ handler: ping, params: [] });
  });

  it("captures one segment for {id}", () => {
    expect(routed(router.match("GET", "/containers/abc123/json"))).toEqual({ handler: inspect, params: ["abc123"] });
    expect(routed(router.match("POST", "/containers/web/start"))).toEqual({ handler: start, params: ["web"] });
    expect(routed(router.match("DELETE", "/containers/web"))).toEqual({ handler: remove, params: ["web"] });
  });

  it("does not let {id} span slashes", () => {
    expect(router.match("GET", "/containers/a/b/json")).toBeNull();
    expect(router.match("DELETE", "/containers/a/b")).toBeNull();
  });

  it("prefers the first route that matches (a literal before a param)", () => {
    expect(routed(router.match("GET", "/containers/json")).handler).toBe(list);
  });

  it("captures several segments for {name*}", () => {
    expect(routed(router.match("GET", "/images/127.0.0.1:5000/a/b:tag/json"))).toEqual({ handler: imageInspect, params: ["127.0.0.1:5000/a/b:tag"] });
    expect(routed(router.match("GET", "/images/alpine/json")).params).toEqual(["alpine"]);
    expect(routed(router.match("POST", "/images/library/alpine:3.20/push")).params).toEqual(["library/alpine:3.20"]);
  });

  it("keeps a digest reference whole", () => {
    const ref = "registry.example.com/team/app@sha256:" + "a".repeat(64);
    expect(routed(router.match("GET", `/images/${ref}/json`)).params).toEqual([ref]);
  });

  it("needs at least one character for {name*}", () => {
    expect(router.match("GET", "/images//json")).toBeNull();
  });

  it("percent-decodes params", () => {
    expect(routed(router.match("GET", "/containers/my%20box/json")).params).toEqual(["my box"]);
    expect(routed(router.match("GET", "/images/localhost%3A5000%2Fapp/json")).params).toEqual(["localhost:5000/app"]);
    expect(routed(router.match("DELETE", "/containers/a%2Fb")).params).toEqual(["a/b"]);
  });

  it("answers a method mismatch with the allowed methods", () => {
    expect(router.match("POST", "/containers/x/json")).toEqual({ allowed: ["GET"] });
    expect(router.match("GET", "/containers/x/start")).toEqual({ allowed: ["POST"] });
    expect(router.match("PUT", "/images/a/b/json")).toEqual({ allowed: ["GET"] });
  });

  it("lists every method of routes sharing a path", () => {
    const r = new Router().add("GET", "/things/{id}", h("get")).add("DELETE", "/things/{id}", h("del"));
    expect(r.match("POST", "/things/1")).toEqual({ allowed: ["GET", "DELETE"] });
  });

  it("serves HEAD with the GET handler", () => {
    expect(routed(router.match("HEAD", "/_ping"))).toEqual({ handler: ping, params: [] });
    expect(routed(router.match("HEAD", "/containers/c1/json"))).toEqual({ handler: inspect, params: ["c1"] });
  });

  it("does not serve HEAD from a non-GET route", () => {
    expect(router.match("HEAD", "/containers/c1/start")).toEqual({ allowed: ["POST"] });
  });

  it("prefers an explicit HEAD route", () => {
    const head = h("head");
    const get = h("get");
    const r = new Router().add("HEAD", "/_ping", head).add("GET", "/_ping", get);
    expect(routed(r.match("HEAD", "/_ping")).handler).toBe(head);
    expect(routed(r.match("GET", "/_ping")).handler).toBe(get);
  });

  it("returns null when nothing matches", () => {
    expect(router.match("GET", "/nope")).toBeNull();
    expect(router.match("GET", "/containers/x/json/extra")).toBeNull();
    expect(router.match("GET", "/_ping/")).toBeNull();
    expect(router.match("GET", "")).toBeNull();
  });
});

describe("query.bool", () => {
  const u = (qs: string) => new URL(`http://berth/x?${qs}`);

  it("is the fallback when absent", () => {
    expect(query.bool(u(""), "all")).toBe(false);
    expect(query.bool(u(""), "all", true)).toBe(true);
  });

  it("is false for '', 0 and false in any case", () => {
    for (const v of ["", "0", "false", "FALSE", "False"]) expect(query.bool(u(`all=${v}`), "all", true)).toBe(false);
    expect(query.bool(u("all"), "all", true)).toBe(false);
  });

  it("is true for anything else", () => {
    for (const v of ["1", "true", "True", "yes", "2"]) expect(query.bool(u(`all=${v}`), "all")).toBe(true);
  });
});

describe("query.int", () => {
  const u = (qs: string) => new URL(`http://berth/x?${qs}`);

  it("is undefined when absent or empty", () => {
    expect(query.int(u(""), "t")).toBeUndefined();
    expect(query.int(u("t="), "t")).toBeUndefined();
  });

  it("parses numbers", () => {
    expect(query.int(u("t=10"), "t")).toBe(10);
    expect(query.int(u("t=0"), "t")).toBe(0);
    expect(query.int(u("t=-1"), "t")).toBe(-1);
    expect(query.int(u("h=24&w=80"), "w")).toBe(80);
  });

  it("throws a 400 ApiError naming the parameter for non-numbers", () => {
    for (const v of ["abc", "1x", "Infinity", "NaN"]) {
      const e = apiError(() => query.int(u(`t=${v}`), "t"));
      expect(e.status).toBe(400);
      expect(e.message).toBe(`invalid value for t: ${v}`);
    }
  });
});

describe("query.filters", () => {
  const u = (filters?: unknown) => {
    const url = new URL("http://berth/containers/json");
    if (filters !== undefined) url.searchParams.set("filters", typeof filters === "string" ? filters : JSON.stringify(filters));
    return url;
  };

  it("is empty without filters", () => {
    expect(query.filters(u())).toEqual(new Map());
    expect(query.filters(u(""))).toEqual(new Map());
  });

  it("reads the map form", () => {
    expect(query.filters(u({ label: { "a=b": true, c: true }, status: { running: true } }))).toEqual(
      new Map([
        ["label", ["a=b", "c"]],
        ["status", ["running"]],
      ]),
    );
  });

  it("reads the list form", () => {
    expect(query.filters(u({ label: ["a=b"], name: ["web", "db"] }))).toEqual(
      new Map([
        ["label", ["a=b"]],
        ["name", ["web", "db"]],
      ]),
    );
  });

  it("throws a 400 ApiError for invalid JSON", () => {
    const e = apiError(() => query.filters(u("{label:")));
    expect(e.status).toBe(400);
    expect(e.message).toBe("invalid filters: {label:");
  });

  it("throws a 400 ApiError for JSON that is not an object", () => {
    expect(apiError(() => query.filters(u("null"))).status).toBe(400);
    expect(apiError(() => query.filters(u("42"))).status).toBe(400);
  });
});

describe("frame", () => {
  it("writes the stream byte, three zeros and the big-endian length before the payload", () => {
    const f = frame(STDOUT, "hello");
    expect([...f.subarray(0, 8)]).toEqual([1, 0, 0, 0, 0, 0, 0, 5]);
    expect(f.subarray(8).toString()).toBe("hello");
    expect(f.length).toBe(13);
  });

  it("uses the stream number given", () => {
    expect(frame(STDERR, "x")[0]).toBe(2);
    expect(frame(SYSERR, "x")[0]).toBe(3);
    expect(frame(0, "x")[0]).toBe(0);
  });

  it("counts bytes, not characters", () => {
    const f = frame(STDOUT, "é€");
    expect(f.readUInt32BE(4)).toBe(5);
    expect(f.subarray(8).toString("utf8")).toBe("é€");
  });

  it("takes Buffers and large payloads", () => {
    const body = Buffer.alloc(70_000, 7);
    const f = frame(STDERR, body);
    expect([...f.subarray(0, 4)]).toEqual([2, 0, 0, 0]);
    expect(f.readUInt32BE(4)).toBe(70_000);
    expect(f.subarray(8).equals(body)).toBe(true);
  });

  it("frames an empty payload as a bare header", () => {
    expect([...frame(STDOUT, "")]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });
});

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");

describe("decodeRegistryAuth", () => {
  it("decodes base64url JSON with username and password", () => {
    expect(decodeRegistryAuth(b64url({ username: "me", password: "s3cret", serveraddress: "registry.example.com" }))).toEqual({ username: "me", password: "s3cret" });
  });

  it("decodes standard base64 too, with padding", () => {
    expect(decodeRegistryAuth(b64({ username: "me", password: "pw" }))).toEqual({ username: "me", password: "pw" });
  });

  it("decodes payloads whose base64url has - and _", () => {
    // "??>" / "~~~" in the password produce '+' and '/' in standard base64.
    const payload = { username: "u", password: "??>~~~??>" };
    const std = b64(payload);
    expect(/[+/]/.test(std)).toBe(true);
    expect(decodeRegistryAuth(b64url(payload))).toEqual(payload);
  });

  it("takes the first value of a repeated header", () => {
    expect(decodeRegistryAuth([b64url({ username: "a", password: "1" }), b64url({ username: "b", password: "2" })])).toEqual({ username: "a", password: "1" });
  });

  it("defaults a missing password to empty", () => {
    expect(decodeRegistryAuth(b64url({ username: "me" }))).toEqual({ username: "me", password: "" });
  });

  it("is anonymous for no header, an empty header, {} or no username", () => {
    expect(decodeRegistryAuth(undefined)).toBeUndefined();
    expect(decodeRegistryAuth("")).toBeUndefined();
    expect(decodeRegistryAuth([])).toBeUndefined();
    expect(decodeRegistryAuth(b64url({}))).toBeUndefined();
    expect(decodeRegistryAuth(b64url({ password: "x" }))).toBeUndefined();
    expect(decodeRegistryAuth(b64url({ username: "", password: "x" }))).toBeUndefined();
    expect(decodeRegistryAuth(b64url(null))).toBeUndefined();
  });

  it("throws a 400 ApiError for garbage", () => {
    for (const bad of ["not base64 json!", Buffer.from("{oops").toString("base64url"), "%%%%"]) {
      const e = apiError(() => decodeRegistryAuth(bad));
      expect(e.status).toBe(400);
    }
  });
});

describe("withRegistryAuth / credentialsForRequest", () => {
  it("shows the credentials inside the task only", async () => {
    expect(credentialsForRequest()).toBeUndefined();
    const seen = await withRegistryAuth(b64url({ username: "me", password: "pw" }), async () => {
      await new Promise((r) => setImmediate(r));
      return credentialsForRequest();
    });
    expect(seen).toEqual({ username: "me", password: "pw" });
    expect(credentialsForRequest()).toBeUndefined();
  });

  it("gives credentials meant for one registry (serveraddress) to that registry only", async () => {
    const header = b64url({ username: "me", password: "pw", serveraddress: "Registry.Example.com:5000" });
    const seen = await withRegistryAuth(header, async () => ({
      own: credentialsForRequest("registry.example.com:5000"),
      other: credentialsForRequest("attacker.example"),
      otherPort: credentialsForRequest("registry.example.com:5001"),
    }));
    expect(seen).toEqual({ own: { username: "me", password: "pw" }, other: undefined, otherPort: undefined });
  });

  it("matches Docker Hub's spellings of its address", async () => {
    const header = b64url({ username: "me", password: "pw", serveraddress: "https://index.docker.io/v1/" });
    expect(await withRegistryAuth(header, async () => credentialsForRequest("docker.io"))).toEqual({ username: "me", password: "pw" });
    expect(await withRegistryAuth(header, async () => credentialsForRequest("registry-1.docker.io"))).toEqual({ username: "me", password: "pw" });
    expect(await withRegistryAuth(header, async () => credentialsForRequest("ghcr.io"))).toBeUndefined();
  });

  it("without serveraddress, the credentials go to the registry of the request (as before)", async () => {
    expect(await withRegistryAuth(b64url({ username: "me", password: "pw" }), async () => credentialsForRequest("any.example"))).toEqual({ username: "me", password: "pw" });
  });

  it("is anonymous inside the task without a header", async () => {
    expect(await withRegistryAuth(undefined, async () => credentialsForRequest())).toBeUndefined();
  });

  it("gives the task's return value and rejection back", async () => {
    await expect(withRegistryAuth(undefined, async () => 42)).resolves.toBe(42);
    await expect(withRegistryAuth(undefined, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  });

  it("keeps concurrent tasks apart", async () => {
    let releaseA!: () => void;
    const gateA = new Promise<void>((r) => (releaseA = r));
    const a = withRegistryAuth(b64url({ username: "alice", password: "a" }), async () => {
      const before = credentialsForRequest();
      await gateA; // b runs in full while a waits
      return [before, credentialsForRequest()];
    });
    const b = withRegistryAuth(b64url({ username: "bob", password: "b" }), async () => {
      await new Promise((r) => setImmediate(r));
      const seen = credentialsForRequest();
      releaseA();
      return seen;
    });
    const [aSeen, bSeen] = await Promise.all([a, b]);
    expect(aSeen).toEqual([
      { username: "alice", password: "a" },
      { username: "alice", password: "a" },
    ]);
    expect(bSeen).toEqual({ username: "bob", password: "b" });
  });

  it("throws before running the task when the header is garbage", () => {
    let ran = false;
    const e = apiError(() =>
      withRegistryAuth("garbage!", async () => {
        ran = true;
      }),
    );
    expect(e.status).toBe(400);
    expect(ran).toBe(false);
  });
});

describe("toApiError", () => {
  it("passes ApiErrors through", () => {
    const e = new ApiError(418, "teapot");
    expect(toApiError(e)).toBe(e);
  });

  it("maps EngineError codes to statuses", () => {
    const cases: [EngineError["code"], number][] = [
      ["INVALID", 400],
      ["NOT_FOUND", 404],
      ["CONFLICT", 409],
      ["NOT_MODIFIED", 304],
      ["INTERNAL", 500],
    ];
    for (const [code, status] of cases) {
      const a = toApiError(new EngineError(code, `msg ${code}`));
      expect(a).toBeInstanceOf(ApiError);
      expect([a.status, a.message]).toEqual([status, `msg ${code}`]);
    }
  });

  it("uses Docker's capitalised wording for a missing image", () => {
    const a = toApiError(new ImageError("NOT_FOUND", "no such image: x"));
    expect([a.status, a.message]).toEqual([404, "No such image: x"]);
  });

  it("keeps other ImageError NOT_FOUND messages as they are", () => {
    const a = toApiError(new ImageError("NOT_FOUND", "manifest unknown for x"));
    expect([a.status, a.message]).toEqual([404, "manifest unknown for x"]);
  });

  it("maps other ImageError codes", () => {
    expect(toApiError(new ImageError("INVALID_REFERENCE", "bad ref")).status).toBe(400);
    expect(toApiError(new ImageError("UNAUTHORIZED", "auth")).status).toBe(401);
    expect(toApiError(new ImageError("DENIED", "denied")).status).toBe(403);
    expect(toApiError(new ImageError("CONFLICT", "in use")).status).toBe(409);
    expect(toApiError(new ImageError("UNREACHABLE", "down")).status).toBe(500);
  });

  it("maps create-request and spec errors to 400", () => {
    expect([toApiError(new CreateRequestError("bad create")).status, toApiError(new CreateRequestError("bad create")).message]).toEqual([400, "bad create"]);
    expect(toApiError(new SpecError("bad spec")).status).toBe(400);
  });

  it("turns anything else into a 500 with its message", () => {
    const a = toApiError(new Error("kaboom"));
    expect([a.status, a.message]).toEqual([500, "kaboom"]);
    const b = toApiError("plain string");
    expect([b.status, b.message]).toEqual([500, "plain string"]);
  });
});
