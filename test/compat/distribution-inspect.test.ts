import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompatEnv, startCompatEnv } from "../fixtures/compat-env";
import { skopeoInspect } from "../fixtures/skopeo";

// GET /distribution/{name}/json through the agent (Docker's distribution
// inspect): the digest the registry holds for a tag, found with a HEAD on the
// manifest; a clear error for an unknown tag and a bad name; a registry that
// refuses HEAD is asked with a GET; a 429 reaches the caller with Retry-After.

let env: CompatEnv;
let quirky: http.Server;
let quirkyHost: string;
const quirkyRequests: string[] = [];
let servedManifest = Buffer.from("{}");

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

beforeAll(async () => {
  // A registry with two quirks: /v2/nohead/ refuses HEAD (405) but serves GET; /v2/busy/ is rate limited.
  quirky = http.createServer((req, res) => {
    quirkyRequests.push(`${req.method} ${req.url}`);
    if (req.url === "/v2/") return res.writeHead(200, { "content-type": "application/json" }).end("{}");
    if (req.url?.startsWith("/v2/busy/")) {
      return res.writeHead(429, { "retry-after": "120", "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }));
    }
    if (req.url === "/v2/nohead/manifests/v1") {
      if (req.method === "HEAD") return res.writeHead(405).end();
      return res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(servedManifest.length) }).end(servedManifest);
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
  });
  await new Promise<void>((r) => quirky.listen(0, "127.0.0.1", r));
  quirkyHost = `127.0.0.1:${(quirky.address() as AddressInfo).port}`;
  env = await startCompatEnv({ allowLocalRegistries: [quirkyHost] });
  servedManifest = Buffer.from(JSON.stringify(await skopeoInspect(`docker://${env.image}`, { raw: true })));
});

afterAll(async () => {
  await env?.close();
  quirky?.closeAllConnections();
  await new Promise((r) => quirky?.close(r));
});

const inspect = async (name: string) => {
  const res = await env.agent.request("GET", `/v1.43/distribution/${name}/json`);
  return { status: res.status, headers: res.headers, body: JSON.parse(res.body || "null") as Record<string, unknown> };
};

describe("GET /distribution/{name}/json through the agent", () => {
  it("answers the registry's digest for the tag, with a HEAD on the manifest, and its platform", async () => {
    const before = env.registry.requests().length;
    const res = await inspect(env.image);
    expect(res.status).toBe(200);
    const descriptor = res.body.Descriptor as { digest: string; mediaType: string; size: number };
    const served = env.registry.requests().slice(before);
    expect(served.some((r) => r.method === "HEAD" && r.path === "/v2/test/tools/manifests/latest" && r.status === 200)).toBe(true);
    expect(served.some((r) => r.method === "GET" && r.path === "/v2/test/tools/manifests/latest")).toBe(false);
    expect(descriptor.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(descriptor.mediaType).toMatch(/manifest/);
    expect(descriptor.size).toBeGreaterThan(0);
    // The digest the registry holds: the same the agent recorded when it pulled the tag.
    const repoDigest = (await env.agent.docker(["inspect", "-f", "{{index .RepoDigests 0}}", env.image])).stdout.trim();
    expect(repoDigest.endsWith(`@${descriptor.digest}`)).toBe(true);
    expect(res.body.Platforms).toEqual([expect.objectContaining({ os: "linux" })]);
    expect(typeof res.body.Created).toBe("string");

    // repo:tag@digest (what a watcher's rollout runs) names the image by its digest, as Docker reads it.
    const pinned = await env.agent.docker(["image", "inspect", "-f", "{{.Id}}", `${env.image}@${descriptor.digest}`]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout.trim()).toBe((await env.agent.docker(["image", "inspect", "-f", "{{.Id}}", env.image])).stdout.trim());

    // Asked again: one HEAD, nothing else (the digest's platforms are remembered).
    const again = env.registry.requests().length;
    expect((await inspect(env.image)).status).toBe(200);
    const second = env.registry.requests().slice(again);
    expect(second.filter((r) => r.path.includes("/manifests/") || r.path.includes("/blobs/")).map((r) => r.method)).toEqual(["HEAD"]);
  });

  it("an unknown tag is a 404 that names the tag; a bad name is a 400", async () => {
    const unknown = await inspect(env.image.replace(/:latest$/, ":no-such-tag"));
    expect(unknown.status).toBe(404);
    expect(String(unknown.body.message)).toContain("no-such-tag");
    expect(String(unknown.body.message)).toContain("no such tag");

    const bad = await inspect("UPPER/Case:tag");
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toMatch(/invalid reference/);

    const id = await inspect("a".repeat(64));
    expect(id.status).toBe(400);
    expect(String(id.body.message)).toContain("no manifest found for full image ID");
  });

  it("a registry that refuses HEAD is asked with a GET, and the digest is the content's", async () => {
    const res = await inspect(`${quirkyHost}/nohead:v1`);
    expect(res.status).toBe(200);
    expect((res.body.Descriptor as { digest: string }).digest).toBe(sha(servedManifest));
    expect(quirkyRequests).toContain("HEAD /v2/nohead/manifests/v1");
    expect(quirkyRequests).toContain("GET /v2/nohead/manifests/v1");
  });

  it("a 429 from the registry reaches the caller at once, with the registry's Retry-After", async () => {
    const before = quirkyRequests.filter((r) => r.startsWith("HEAD /v2/busy/")).length;
    const res = await inspect(`${quirkyHost}/busy:v1`);
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("120");
    expect(String(res.body.message)).toContain("rate limiting");
    // Not retried by the agent: the caller decides when to ask again.
    expect(quirkyRequests.filter((r) => r.startsWith("HEAD /v2/busy/")).length - before).toBe(1);
  });
});
