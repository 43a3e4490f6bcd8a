// The image-store fixtures, proven end to end against independent tools: images
// built by test-images.ts are pushed with skopeo into docker-registry in each
// auth mode, then read back with plain fetch (doing the Docker auth flows by
// hand) and with skopeo, and must come back with the digests the builder computed.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, type RegistryAuth, type TestRegistry } from "../../fixtures/registry";
import { SkopeoError, skopeoCopy, skopeoInspect } from "../../fixtures/skopeo";
import { parseScope } from "../../fixtures/token-server";
import {
  buildBigImage,
  buildTestImages,
  CAP_NET_RAW_XATTR,
  LAYERED_CONFIG,
  LAYERED_CONTENT,
  MEDIA_TYPES,
  readLayoutBlob,
  type BuiltImage,
  type OciManifest,
} from "../../fixtures/test-images";

const run = promisify(execFile);

const USER = "berth-user";
const PASS = "correct horse battery staple";
const CREDS = `${USER}:${PASS}`;
const WRONG = `${USER}:not-the-password`;

const sha256 = (b: Buffer | Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const basic = (creds: string) => `Basic ${Buffer.from(creds).toString("base64")}`;

async function decompress(blob: Buffer, mediaType: string): Promise<Buffer> {
  if (mediaType === MEDIA_TYPES.layerGzip) return gunzipSync(blob);
  if (mediaType === MEDIA_TYPES.layerZstd) {
    // An independent decoder: the zstd CLI, fed through a temp file.
    const dir = await mkdtemp(path.join(os.tmpdir(), "berth-zstd-"));
    try {
      const file = path.join(dir, "layer.tar.zst");
      await writeFile(file, blob);
      await run("zstd", ["-d", "-q", file, "-o", path.join(dir, "layer.tar")]);
      return await readFile(path.join(dir, "layer.tar"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`unexpected media type ${mediaType}`);
}

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string | null;
  pax: Record<string, string> | null;
  body: Buffer;
}

async function listTar(raw: Buffer): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const h = entry.header;
      entries.push({
        name: h.name,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        linkname: h.linkname ?? null,
        pax: (h.pax as Record<string, string> | null) ?? null,
        body: Buffer.concat(chunks),
      });
    }
  })();
  extract.end(raw);
  await done;
  return entries;
}

/** `Bearer realm="...",service="...",scope="..."` -> { scheme, params }. */
function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } {
  expect(header, "WWW-Authenticate header").toBeTruthy();
  const [scheme, rest = ""] = header!.split(/ (.*)/s);
  const params: Record<string, string> = {};
  for (const m of rest.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return { scheme: scheme!, params };
}

/** The Docker token flow, by hand: 401 challenge -> GET realm?service&scope (Basic if creds) -> token. */
async function fetchToken(challenge: Response, creds?: string): Promise<{ status: number; token?: string; body: unknown }> {
  const { scheme, params } = parseChallenge(challenge.headers.get("www-authenticate"));
  expect(scheme).toBe("Bearer");
  const url = new URL(params.realm!);
  url.searchParams.set("service", params.service!);
  if (params.scope) url.searchParams.set("scope", params.scope);
  const res = await fetch(url, { headers: creds ? { Authorization: basic(creds) } : {} });
  const body = (await res.json()) as { token?: string; access_token?: string };
  return { status: res.status, token: body.token, body };
}

/**
 * GET/HEAD against the registry as a client would: anonymous first, then on 401
 * answer the challenge (Basic for htpasswd, the token flow for token auth).
 */
async function registryFetch(
  registry: TestRegistry,
  urlPath: string,
  opts: { creds?: string; method?: string; accept?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = opts.accept ? { Accept: opts.accept } : {};
  const first = await fetch(`${registry.url}${urlPath}`, { method: opts.method ?? "GET", headers });
  if (first.status !== 401 || !opts.creds) return first;
  await first.arrayBuffer();
  const { scheme } = parseChallenge(first.headers.get("www-authenticate"));
  let authorization: string;
  if (scheme === "Basic") {
    authorization = basic(opts.creds);
  } else {
    const token = await fetchToken(first, opts.creds);
    if (token.status !== 200) return new Response(JSON.stringify(token.body), { status: token.status });
    authorization = `Bearer ${token.token}`;
  }
  return fetch(`${registry.url}${urlPath}`, { method: opts.method ?? "GET", headers: { ...headers, Authorization: authorization } });
}

const repo = (image: BuiltImage) => `test/${image.name}`;
const ref = (registry: TestRegistry, image: BuiltImage) => `docker://${registry.host}/${repo(image)}:${image.tag}`;
const credsFor = (registry: TestRegistry) => (registry.auth === "none" ? undefined : CREDS);

describe("test fixtures: OCI image builder, docker-registry in three auth modes, skopeo", () => {
  let work: string;
  let images: { simple: BuiltImage; layered: BuiltImage };
  const registries = new Map<RegistryAuth, TestRegistry>();

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-fixtures-"));
    images = await buildTestImages(path.join(work, "images"));
    for (const auth of ["none", "htpasswd", "token"] as const) {
      registries.set(auth, await startRegistry({ auth, username: USER, password: PASS }));
    }
  });

  afterAll(async () => {
    for (const registry of registries.values()) await registry.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe("image builder", () => {
    it("writes OCI layouts whose blobs hash to the recorded digests and diff IDs", async () => {
      for (const image of [images.simple, images.layered]) {
        const index = JSON.parse(await readFile(path.join(image.layoutDir, "index.json"), "utf8"));
        expect(JSON.parse(await readFile(path.join(image.layoutDir, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
        expect(index.manifests).toHaveLength(1);
        expect(index.manifests[0]).toMatchObject({
          mediaType: MEDIA_TYPES.manifest,
          digest: image.manifestDigest,
          annotations: { "org.opencontainers.image.ref.name": image.tag },
        });

        const manifestBytes = await readLayoutBlob(image.layoutDir, image.manifestDigest);
        expect(sha256(manifestBytes)).toBe(image.manifestDigest);
        const manifest = JSON.parse(manifestBytes.toString("utf8")) as OciManifest;
        expect(manifest).toEqual(image.manifest);
        expect(manifest.mediaType).toBe(MEDIA_TYPES.manifest);
        expect(manifest.config).toMatchObject({ mediaType: MEDIA_TYPES.config, digest: image.configDigest });
        expect(manifest.layers.map((l) => l.digest)).toEqual(image.layerDigests);
        expect(manifest.layers.map((l) => l.mediaType)).toEqual(image.layerMediaTypes);

        const configBytes = await readLayoutBlob(image.layoutDir, image.configDigest);
        expect(sha256(configBytes)).toBe(image.configDigest);
        expect(configBytes.length).toBe(manifest.config.size);
        const config = JSON.parse(configBytes.toString("utf8"));
        expect(config).toEqual(image.config);
        expect(config.rootfs).toEqual({ type: "layers", diff_ids: image.diffIds });
        expect(config.os).toBe("linux");

        for (const [i, layer] of manifest.layers.entries()) {
          const blob = await readLayoutBlob(image.layoutDir, layer.digest);
          expect(sha256(blob)).toBe(layer.digest);
          expect(blob.length).toBe(layer.size);
          expect(sha256(await decompress(blob, layer.mediaType))).toBe(image.diffIds[i]);
        }
      }
    });

    it("simple: one gzip layer with busybox, /bin/sh and account files; runnable config", async () => {
      const { simple } = images;
      expect(simple.layerMediaTypes).toEqual([MEDIA_TYPES.layerGzip]);
      const entries = await listTar(gunzipSync(await readLayoutBlob(simple.layoutDir, simple.layerDigests[0]!)));
      const byName = new Map(entries.map((e) => [e.name, e]));
      expect(byName.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0 });
      expect(byName.get("bin/busybox")!.body.equals(await readFile("/bin/busybox"))).toBe(true);
      expect(byName.get("bin/sh")).toMatchObject({ type: "symlink", linkname: "busybox" });
      expect(byName.get("etc/passwd")!.body.toString()).toMatch(/^root:x:0:0:.*\nnobody:x:65534:65534:/);
      expect(byName.get("etc/group")!.body.toString()).toMatch(/^root:x:0:/);
      expect(simple.config).toMatchObject({
        architecture: expect.any(String),
        os: "linux",
        config: { Cmd: ["/bin/sh"], WorkingDir: "/", Env: [expect.stringMatching(/^PATH=/)] },
      });
    });

    it("layered: whiteouts, opaque dir, hardlink, symlink, binary xattr, ownership, and a zstd layer", async () => {
      const { layered } = images;
      expect(layered.layerMediaTypes).toEqual([MEDIA_TYPES.layerGzip, MEDIA_TYPES.layerGzip, MEDIA_TYPES.layerZstd]);
      const raw = await Promise.all(
        layered.layerDigests.map(async (d, i) => decompress(await readLayoutBlob(layered.layoutDir, d), layered.layerMediaTypes[i]!)),
      );
      const [l1, l2, l3] = await Promise.all(raw.map(listTar));
      const names = (es: TarEntry[]) => es.map((e) => e.name);

      expect(names(l1!)).toEqual(
        expect.arrayContaining(["bin/busybox", "bin/sh", "etc/deleted-me", "opaque/lower-a", "opaque/lower-b", "data/file"]),
      );

      const two = new Map(l2!.map((e) => [e.name, e]));
      expect(two.get("etc/.wh.deleted-me")).toMatchObject({ type: "file", body: Buffer.alloc(0) });
      expect(two.get("opaque/.wh..wh..opq")).toMatchObject({ type: "file", body: Buffer.alloc(0) });
      expect(two.get("opaque/upper-c")!.body.toString()).toBe(LAYERED_CONTENT.upperC);
      // The hardlink's target is in the same layer, and comes before it.
      expect(names(l2!).indexOf("data/file")).toBeLessThan(names(l2!).indexOf("data/hard"));
      expect(two.get("data/hard")).toMatchObject({ type: "link", linkname: "data/file" });
      expect(two.get("data/link")).toMatchObject({ type: "symlink", linkname: "file" });
      expect(two.get("data/owned")).toMatchObject({ type: "file", uid: 1000, gid: 1000, mode: 0o640 });
      expect(two.get("bin/ping")).toMatchObject({ type: "file", mode: 0o755 });
      // The PAX record carries the capability blob byte for byte.
      const record = Buffer.concat([Buffer.from(" SCHILY.xattr.security.capability="), CAP_NET_RAW_XATTR, Buffer.from("\n")]);
      expect(raw[1]!.includes(record)).toBe(true);
      expect(Buffer.from(two.get("bin/ping")!.pax!["SCHILY.xattr.security.capability"]!, "utf8").equals(CAP_NET_RAW_XATTR)).toBe(true);

      expect(l3!.find((e) => e.name === "etc/zstd-layer")!.body.toString()).toBe(LAYERED_CONTENT.zstdLayer);
      expect(layered.config.config).toEqual(LAYERED_CONFIG);
      expect(layered.config.history).toHaveLength(3);
    });

    it("layered: GNU tar, an independent reader, unpacks the xattr, links and ownership", async () => {
      const { layered } = images;
      const dir = path.join(work, "gnu-tar-layer2");
      await mkdir(dir);
      const layer = path.join(work, "layer2.tar.gz");
      await writeFile(layer, await readLayoutBlob(layered.layoutDir, layered.layerDigests[1]!));
      await run("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpzf", layer, "-C", dir]);
      const { stdout } = await run("getfattr", ["-e", "hex", "-n", "security.capability", "--absolute-names", path.join(dir, "bin/ping")]);
      expect(stdout).toContain(`security.capability=0x${CAP_NET_RAW_XATTR.toString("hex")}`);
      const file = await stat(path.join(dir, "data/file"));
      expect((await stat(path.join(dir, "data/hard"))).ino).toBe(file.ino);
      expect(file.nlink).toBe(2);
      expect(await readlink(path.join(dir, "data/link"))).toBe("file");
      const owned = await lstat(path.join(dir, "data/owned"));
      expect({ uid: owned.uid, gid: owned.gid, mode: owned.mode & 0o7777 }).toEqual({ uid: 1000, gid: 1000, mode: 0o640 });
    });

    it("is deterministic: a second build yields the same digests", async () => {
      const again = await buildTestImages(path.join(work, "images-again"));
      for (const name of ["simple", "layered"] as const) {
        expect(again[name].manifestDigest).toBe(images[name].manifestDigest);
        expect(again[name].layerDigests).toEqual(images[name].layerDigests);
      }
    });

    it("buildBigImage: gzip layers of incompressible data, sized as asked", async () => {
      const total = 3 * 1024 * 1024 + 7;
      const big = await buildBigImage(path.join(work, "big"), total, 2);
      expect(big.layerMediaTypes).toEqual([MEDIA_TYPES.layerGzip, MEDIA_TYPES.layerGzip]);
      let payload = 0;
      for (const [i, digest] of big.layerDigests.entries()) {
        const blob = await readLayoutBlob(big.layoutDir, digest);
        expect(sha256(blob)).toBe(digest);
        const rawTar = gunzipSync(blob);
        expect(sha256(rawTar)).toBe(big.diffIds[i]);
        const files = (await listTar(rawTar)).filter((e) => e.type === "file");
        payload += files.reduce((n, e) => n + e.body.length, 0);
        // Incompressible: gzip cannot shrink it meaningfully.
        expect(blob.length).toBeGreaterThan(files[0]!.body.length);
      }
      expect(payload).toBe(total);
    });
  });

  describe.each(["none", "htpasswd", "token"] as const)("docker-registry, auth=%s", (auth) => {
    const registry = () => registries.get(auth)!;

    it("answers /v2/ as its auth mode says", async () => {
      const res = await fetch(`${registry().url}/v2/`);
      await res.arrayBuffer();
      if (auth === "none") {
        expect(res.status).toBe(200);
        return;
      }
      expect(res.status).toBe(401);
      const { scheme, params } = parseChallenge(res.headers.get("www-authenticate"));
      if (auth === "htpasswd") {
        expect(scheme).toBe("Basic");
      } else {
        expect(scheme).toBe("Bearer");
        expect(params).toMatchObject({ realm: registry().tokenServer!.realm, service: registry().tokenServer!.service });
      }
    });

    it("takes a skopeo push and serves the same manifest and blobs over the HTTP API", async () => {
      const creds = credsFor(registry());
      for (const image of [images.simple, images.layered]) {
        await skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, ref(registry(), image), { destCreds: creds });

        const res = await registryFetch(registry(), `/v2/${repo(image)}/manifests/${image.tag}`, { creds, accept: MEDIA_TYPES.manifest });
        expect(res.status).toBe(200);
        const body = Buffer.from(await res.arrayBuffer());
        expect(res.headers.get("docker-content-digest")).toBe(image.manifestDigest);
        expect(sha256(body)).toBe(image.manifestDigest);
        const manifest = JSON.parse(body.toString("utf8")) as OciManifest;
        expect(manifest.mediaType).toBe(MEDIA_TYPES.manifest);
        // Includes the zstd layer's media type, unchanged by skopeo and the registry.
        expect(manifest.layers.map((l) => l.mediaType)).toEqual(image.layerMediaTypes);

        for (const digest of [image.configDigest, image.layerDigests.at(-1)!]) {
          const blob = await registryFetch(registry(), `/v2/${repo(image)}/blobs/${digest}`, { creds });
          expect(blob.status).toBe(200);
          expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(digest);
        }
      }
      const requests = registry().requests();
      expect(requests.some((r) => r.method === "PUT" && r.path === `/v2/test/layered/manifests/v1` && r.status === 201)).toBe(true);
      expect(requests.some((r) => r.method === "GET" && r.path === `/v2/test/layered/blobs/${images.layered.configDigest}`)).toBe(true);
    });

    it("skopeo copies the pushed images back to OCI layouts with the same digests", async () => {
      const creds = credsFor(registry());
      for (const image of [images.simple, images.layered]) {
        const out = path.join(work, `copy-back-${auth}-${image.name}`);
        await skopeoCopy(ref(registry(), image), `oci:${out}:${image.tag}`, { srcCreds: creds });
        const index = JSON.parse(await readFile(path.join(out, "index.json"), "utf8"));
        expect(index.manifests[0].digest).toBe(image.manifestDigest);
        const manifest = JSON.parse((await readLayoutBlob(out, image.manifestDigest)).toString("utf8")) as OciManifest;
        expect(manifest.layers.map((l) => l.digest)).toEqual(image.layerDigests);
        expect(manifest.layers.map((l) => l.mediaType)).toEqual(image.layerMediaTypes);
        for (const digest of image.layerDigests) expect(sha256(await readLayoutBlob(out, digest))).toBe(digest);

        const raw = (await skopeoInspect(ref(registry(), image), { creds, raw: true })) as OciManifest;
        expect(raw.layers.map((l) => l.digest)).toEqual(image.layerDigests);
        const config = (await skopeoInspect(ref(registry(), image), { creds, config: true })) as { rootfs: { diff_ids: string[] } };
        expect(config.rootfs.diff_ids).toEqual(image.diffIds);
      }
    });
  });

  describe("htpasswd auth refuses", () => {
    const registry = () => registries.get("htpasswd")!;

    it("wrong and missing credentials, over HTTP and through skopeo", async () => {
      const path_ = `/v2/${repo(images.simple)}/manifests/${images.simple.tag}`;
      const wrong = await fetch(`${registry().url}${path_}`, { headers: { Authorization: basic(WRONG), Accept: MEDIA_TYPES.manifest } });
      expect(wrong.status).toBe(401);
      await wrong.arrayBuffer();
      const none = await fetch(`${registry().url}${path_}`, { headers: { Accept: MEDIA_TYPES.manifest } });
      expect(none.status).toBe(401);
      await none.arrayBuffer();
      const right = await fetch(`${registry().url}${path_}`, { headers: { Authorization: basic(CREDS), Accept: MEDIA_TYPES.manifest } });
      expect(right.status).toBe(200);
      await right.arrayBuffer();

      await expect(skopeoInspect(ref(registry(), images.simple), { creds: WRONG, raw: true })).rejects.toThrow(SkopeoError);
      await expect(skopeoInspect(ref(registry(), images.simple), { raw: true })).rejects.toThrow(/unauthorized|authentication required/i);
      const err = await skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, `docker://${registry().host}/test/denied:v1`, {
        destCreds: WRONG,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SkopeoError);
      expect((err as SkopeoError).message).not.toContain(PASS);
      expect((err as SkopeoError).message).not.toContain("not-the-password");
    });
  });

  describe("token auth", () => {
    const registry = () => registries.get("token")!;
    const tokens = () => registry().tokenServer!;
    const manifestPath = () => `/v2/${repo(images.simple)}/manifests/${images.simple.tag}`;

    async function challenge(): Promise<Response> {
      const res = await fetch(`${registry().url}${manifestPath()}`, { headers: { Accept: MEDIA_TYPES.manifest } });
      expect(res.status).toBe(401);
      await res.arrayBuffer();
      return res;
    }

    it("the challenge names the scope; a token for it is issued once and reused for several requests", async () => {
      const res = await challenge();
      expect(parseChallenge(res.headers.get("www-authenticate")).params.scope).toBe(`repository:${repo(images.simple)}:pull`);
      tokens().resetRequests();
      const token = await fetchToken(res, CREDS);
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token: token.token, access_token: token.token, expires_in: 300, issued_at: expect.any(String) });

      const headers = { Authorization: `Bearer ${token.token}`, Accept: MEDIA_TYPES.manifest };
      for (const p of [manifestPath(), `/v2/${repo(images.simple)}/blobs/${images.simple.configDigest}`, manifestPath()]) {
        const r = await fetch(`${registry().url}${p}`, { headers });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
      expect(tokens().requestCount).toBe(1);
      expect(tokens().requests[0]).toMatchObject({
        username: USER,
        status: 200,
        granted: [{ type: "repository", name: repo(images.simple), actions: ["pull"] }],
      });

      // The JWT carries what distribution 2.8 checks: x5c chain, iss, aud, times, access.
      const [h, c] = token.token!.split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString("utf8")));
      expect(h).toMatchObject({ alg: "ES256", x5c: [expect.any(String)] });
      expect(c).toMatchObject({ iss: tokens().issuer, aud: tokens().service, sub: USER, jti: expect.any(String) });
      expect(c.exp - c.iat).toBe(300);
    });

    it("wrong credentials: the token server answers 401, and skopeo fails", async () => {
      const before = tokens().requestCount;
      const token = await fetchToken(await challenge(), WRONG);
      expect(token.status).toBe(401);
      expect(token.token).toBeUndefined();
      expect(tokens().requestCount).toBe(before + 1);
      expect(tokens().requests.at(-1)).toMatchObject({ username: USER, status: 401, granted: [] });

      await expect(skopeoInspect(ref(registry(), images.simple), { creds: WRONG, raw: true })).rejects.toThrow(SkopeoError);
      await expect(
        skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, `docker://${registry().host}/test/denied:v1`, { destCreds: WRONG }),
      ).rejects.toThrow(SkopeoError);
    });

    it("anonymous: a token is issued but grants nothing, so the registry refuses pulls and pushes", async () => {
      const token = await fetchToken(await challenge());
      expect(token.status).toBe(200);
      expect(tokens().requests.at(-1)).toMatchObject({ username: null, granted: [] });
      const res = await fetch(`${registry().url}${manifestPath()}`, {
        headers: { Authorization: `Bearer ${token.token}`, Accept: MEDIA_TYPES.manifest },
      });
      expect(res.status).toBe(401);
      await res.arrayBuffer();
      expect(parseChallenge(res.headers.get("www-authenticate")).params.error).toBe("insufficient_scope");

      const upload = await fetch(`${registry().url}/v2/test/anon/blobs/uploads/`, { method: "POST", headers: { Authorization: `Bearer ${token.token}` } });
      expect(upload.status).toBe(401);
      await upload.arrayBuffer();

      await expect(
        skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, `docker://${registry().host}/test/anon:v1`),
      ).rejects.toThrow(SkopeoError);
      const pushed = await registryFetch(registry(), `/v2/test/anon/tags/list`, { creds: CREDS });
      expect(pushed.status).toBe(404);
      await pushed.arrayBuffer();
    });

    it("the registry rejects tokens for another audience or scope", async () => {
      const pull = [{ type: "repository", name: repo(images.simple), actions: ["pull"] }];
      const cases = [
        tokens().signToken(pull, { audience: "some-other-registry" }),
        tokens().signToken(pull, { issuer: "someone-else" }),
        tokens().signToken([{ type: "repository", name: "test/other", actions: ["pull"] }]),
      ];
      for (const bad of cases) {
        const res = await fetch(`${registry().url}${manifestPath()}`, { headers: { Authorization: `Bearer ${bad}`, Accept: MEDIA_TYPES.manifest } });
        expect(res.status).toBe(401);
        await res.arrayBuffer();
      }
      const good = await fetch(`${registry().url}${manifestPath()}`, {
        headers: { Authorization: `Bearer ${tokens().signToken(pull)}`, Accept: MEDIA_TYPES.manifest },
      });
      expect(good.status).toBe(200);
      await good.arrayBuffer();
    });

    it("failNext makes token requests fail on demand, then recovers", async () => {
      tokens().failNext(1, 503);
      expect((await fetchToken(await challenge(), CREDS)).status).toBe(503);
      expect((await fetchToken(await challenge(), CREDS)).status).toBe(200);
    });

    it("anonymousPull grants pull (not push) to anonymous clients", async () => {
      const open = await startRegistry({ auth: "token", username: USER, password: PASS, anonymousPull: true });
      try {
        await skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, ref(open, images.simple), { destCreds: CREDS });
        const raw = (await skopeoInspect(ref(open, images.simple), { raw: true })) as OciManifest;
        expect(raw.layers.map((l) => l.digest)).toEqual(images.simple.layerDigests);
        await expect(
          skopeoCopy(`oci:${images.simple.layoutDir}:${images.simple.tag}`, `docker://${open.host}/test/anon:v1`),
        ).rejects.toThrow(SkopeoError);
      } finally {
        await open.stop();
      }
    });
  });

  it("parseScope splits type, name and actions", () => {
    expect(parseScope("repository:test/simple:pull,push")).toEqual({ type: "repository", name: "test/simple", actions: ["pull", "push"] });
    expect(parseScope("registry:catalog:*")).toEqual({ type: "registry", name: "catalog", actions: ["*"] });
    expect(parseScope("nonsense")).toBeNull();
  });
});
