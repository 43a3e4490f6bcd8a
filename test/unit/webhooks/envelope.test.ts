import { describe, expect, it } from "vitest";
import { latestPush, mediaTypeOf, parseEnvelope } from "../../../server/webhooks/envelope";

// Docker distribution notification envelopes, as a registry sends them.

const DIGEST = `sha256:${"a".repeat(64)}`;
const DIGEST2 = `sha256:${"b".repeat(64)}`;
const MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

function event(action: string, target: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: "320678d8-ca14-430f-8bb6-4ca139cd83f7",
    timestamp: "2026-12-07T03:00:00.000Z",
    action,
    target: { size: 708, length: 708, url: `http://registry.example:5000/v2/${String(target.repository)}/manifests/${DIGEST}`, ...target },
    request: { id: "6df24a34", addr: "192.168.64.11:42961", host: "registry.example:5000", method: "PUT", useragent: "skopeo" },
    actor: {},
    source: { addr: "registry:5000", instanceID: "9c7f1d3a" },
    ...extra,
  };
}

describe("parseEnvelope", () => {
  it("keeps manifest pushes (digest and tag) and says why each other event is skipped", () => {
    const parsed = parseEnvelope({
      events: [
        event("push", { mediaType: "application/octet-stream", digest: DIGEST2, repository: "team/web" }),
        event("push", { mediaType: MANIFEST, digest: DIGEST, repository: "team/web", tag: "v2" }),
        event("pull", { mediaType: MANIFEST, digest: DIGEST, repository: "team/web", tag: "v2" }),
        event("delete", { digest: DIGEST, repository: "team/web" }),
        event("push", { mediaType: MANIFEST, digest: DIGEST, repository: "Not/Valid" }),
      ],
    });
    expect(parsed).toEqual({
      ok: true,
      pushes: [{ repository: "team/web", tag: "v2", digest: DIGEST, mediaType: MANIFEST, timestamp: "2026-12-07T03:00:00.000Z" }],
      skipped: [
        { action: "push", repository: "team/web", reason: "a layer push (only manifest pushes change an image)" },
        { action: "pull", repository: "team/web", reason: "a pull event, not a push" },
        { action: "delete", repository: "team/web", reason: "a delete event, not a push" },
        { action: "push", repository: "Not/Valid", reason: "the event names no valid repository" },
      ],
    });
  });

  it("accepts an OCI manifest or index push without a tag (by digest), and a tag without a digest", () => {
    const parsed = parseEnvelope({
      events: [
        event("push", { mediaType: "application/vnd.oci.image.index.v1+json", digest: DIGEST, repository: "team/web" }),
        { action: "push", target: { repository: "team/web", tag: "latest" } },
      ],
    });
    expect(parsed.ok && parsed.pushes.map((p) => [p.digest, p.tag])).toEqual([
      [DIGEST, null],
      [null, "latest"],
    ]);
  });

  it("refuses what isn't an envelope, naming the field", () => {
    expect(parseEnvelope([])).toMatchObject({ ok: false, problem: expect.stringMatching(/^Not a registry notification envelope/) });
    expect(parseEnvelope({ image: "x" })).toMatchObject({ ok: false, problem: expect.stringMatching(/events/) });
    expect(parseEnvelope({ events: [{ target: {} }] })).toMatchObject({ ok: false, problem: expect.stringMatching(/events\.0\.action/) });
    expect(parseEnvelope({ events: Array.from({ length: 1001 }, () => ({ action: "pull" })) })).toMatchObject({ ok: false });
  });

  it("a bad digest is dropped (the tag stays); neither: skipped", () => {
    const parsed = parseEnvelope({ events: [event("push", { mediaType: MANIFEST, digest: "sha256:zz", repository: "team/web", tag: "v3" }), event("push", { mediaType: MANIFEST, digest: "md5:1", repository: "team/web" })] });
    expect(parsed.ok && parsed.pushes.map((p) => [p.digest, p.tag])).toEqual([[null, "v3"]]);
    expect(parsed.ok && parsed.skipped[0]!.reason).toMatch(/neither a valid digest nor a tag/);
  });
});

describe("latestPush and media types", () => {
  it("picks the latest push by timestamp, else the last one", () => {
    const a = { repository: "r", tag: "a", digest: null, mediaType: null, timestamp: "2026-12-07T03:00:02Z" };
    const b = { repository: "r", tag: "b", digest: null, mediaType: null, timestamp: "2026-12-07T03:00:01Z" };
    expect(latestPush([a, b])).toBe(a);
    const c = { ...a, timestamp: null };
    const d = { ...b, timestamp: null };
    expect(latestPush([c, d])).toBe(d);
    expect(latestPush([])).toBeNull();
  });

  it("reads a Content-Type without its parameters", () => {
    expect(mediaTypeOf("Application/JSON; charset=utf-8")).toBe("application/json");
    expect(mediaTypeOf(null)).toBeNull();
    expect(mediaTypeOf("")).toBeNull();
  });
});
