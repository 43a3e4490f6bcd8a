import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { ImageError, RegistryRateLimited } from "./errors";
import { type HttpResponse, httpExchange } from "./http-transport";
import { sha256 } from "./digest";
import { isLoopbackRegistry, registryEndpointHost } from "../../lib/image-reference";
import { MANIFEST_ACCEPT } from "./media-types";
import { LocalRegistryRefused, RegistryAddressGuard } from "./registry-address";
import { parseChallenge } from "./www-authenticate";

// An OCI distribution v2 client: anonymous, Basic and Bearer token auth (with
// caching and re-challenge), manual redirects that drop Authorization across
// hosts, idle timeouts, and retries with backoff on 5xx and connection resets.
//
// Every connection (the registry, its redirects, its token service) goes
// through one address guard: loopback, link-local and unspecified addresses
// only for registries allowed explicitly. And whatever fails below HTTP
// (refused, reset, not HTTP at all, TLS, timeout), the caller is told the same
// thing, "registry X could not be reached": otherwise the differences map out
// which ports of a host listen and what speaks there. The detail goes to the
// agent's own log.

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Registries reached over plain HTTP. Loopback registries always are. */
  insecureRegistries?: string[];
  credentials?: (registry: string) => RegistryCredentials | undefined;
  /** No bytes for this long (connect, headers or body) aborts a request. */
  idleTimeoutMs?: number;
  retries?: number;
  userAgent?: string;
  /** Blobs bigger than this are uploaded in chunks of this size (default 32 MiB). */
  uploadChunkSize?: number;
  /** Registry endpoints (HOST:PORT) that may be on loopback, link-local or unspecified addresses. */
  allowLocalRegistries?: readonly string[];
  /** Where the details of connection failures go (the agent's log); the caller gets a uniform message. */
  log?: (line: string) => void;
}

export interface Repo {
  registry: string;
  repository: string;
}

/** What a tag (or digest) points at, as the registry describes it without sending the manifest. */
export interface ManifestDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Seconds
 * from now, at least 1; null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.max(1, Number(text));
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return null;
  return Math.max(1, Math.ceil((at - now) / 1000));
}

/** When a registry says 429 without Retry-After. */
const DEFAULT_RATE_LIMIT_SECONDS = 60;

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

type Body = () => Buffer | Readable | undefined;

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Body;
  /** Token scope actions for this request's repository. */
  actions?: string;
  /** Extra scopes (cross-repository mount). */
  extraScopes?: string[];
  /** Statuses returned to the caller instead of thrown. */
  expect?: number[];
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ABORT_ERR"]);
const MAX_REDIRECTS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function networkCode(e: unknown): string {
  const err = e as { code?: unknown; name?: string; cause?: { code?: unknown; name?: string; message?: string } };
  // The transport's idle timeout, or an aborted exchange.
  if (err?.name === "AbortError" || err?.name === "TimeoutError" || err?.cause?.name === "AbortError") return "ABORT_ERR";
  // Socket and parser errors carry a code (ECONNREFUSED, HPE_…); a wrapped one has it in `cause`.
  const code = err?.code ?? err?.cause?.code ?? (err?.cause?.message ? `(${err.cause.message})` : undefined) ?? err?.cause?.name ?? err?.name;
  return typeof code === "string" ? code : "UNKNOWN";
}

function describeNetwork(code: string): string {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ABORT_ERR":
    case "TimeoutError":
    case "AbortError":
      return "timed out";
    case "ECONNRESET":
      return "connection reset";
    default:
      return code.startsWith("(") ? code.slice(1, -1) : code.toLowerCase();
  }
}

export class RegistryClient {
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly basic = new Set<string>();
  private readonly idleTimeoutMs: number;
  private readonly retries: number;

  private readonly userAgent: string;
  private readonly guard: RegistryAddressGuard;
  private readonly log: (line: string) => void;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.userAgent = options.userAgent ?? "berth-agent";
    this.guard = new RegistryAddressGuard(options.allowLocalRegistries ?? []);
    this.log = options.log ?? (() => {});
  }

  /**
   * A failure below HTTP, as the caller sees it: refused by the address guard
   * (said so: it is the user's setting that decides), else the same words
   * whatever happened, with the detail in the log.
   */
  private unreachable(what: string, url: string, e: unknown): ImageError {
    if (e instanceof LocalRegistryRefused) return new ImageError("UNREACHABLE", `${what} could not be reached: ${e.message}`, { cause: e });
    this.log(`${what}: ${new URL(url).host}: ${describeNetwork(networkCode(e))}${e instanceof Error && e.message ? ` (${e.message})` : ""}`);
    return new ImageError("UNREACHABLE", `${what} could not be reached`, { cause: e });
  }

  baseUrl(registry: string): string {
    const host = registryEndpointHost(registry);
    const insecure = isLoopbackRegistry(registry) || (this.options.insecureRegistries ?? []).includes(registry);
    return `${insecure ? "http" : "https"}://${host}`;
  }

  /** Checks the current credentials against the registry (docker login): resolves only on a 200 from /v2/. */
  async login(registry: string): Promise<void> {
    (await this.request({ registry, repository: "" }, "/v2/", { expect: [200] })).cancel();
  }

  async ping(registry: string): Promise<void> {
    (await this.request({ registry, repository: "" }, "/v2/", { expect: [200, 401] })).cancel();
  }

  /** With rateLimit, a 429 throws RegistryRateLimited at once instead of being retried. */
  async getManifest(repo: Repo, reference: string, o: { rateLimit?: boolean } = {}): Promise<FetchedManifest> {
    const res = await this.request(repo, `/v2/${repo.repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
      expect: o.rateLimit ? [200, 404, 429] : [200, 404],
    });
    if (res.status === 429) {
      res.cancel();
      throw this.rateLimited(repo, res);
    }
    if (res.status === 404) {
      res.cancel();
      throw new ImageError(
        "NOT_FOUND",
        `manifest for ${repo.registry}/${repo.repository}:${reference} not found: ${reference.startsWith("sha256:") ? "no such digest" : "no such tag"} in that repository`,
      );
    }
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    const bytes = await readLimited(res.body, 4 * 1024 * 1024, "manifest").catch((e: unknown) => {
      if (e instanceof ImageError) throw e;
      throw new ImageError("UNREACHABLE", `the download of manifest ${reference} from ${repo.registry} was interrupted: ${describeNetwork(networkCode(e))}`, { cause: e });
    });
    if (Number.isFinite(declared) && declared !== bytes.length) {
      throw new ImageError("SIZE_MISMATCH", `manifest ${reference} is ${bytes.length} bytes but the registry declared ${declared}`);
    }
    const digest = sha256(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new ImageError("DIGEST_MISMATCH", `manifest digest mismatch: asked for ${reference}, got content with digest ${digest}`);
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    return { digest, mediaType, bytes };
  }

  /**
   * What a tag points at, with a HEAD on the manifest (Docker Hub doesn't
   * count HEADs against its pull limit): the Docker-Content-Digest, type and
   * length. A registry that refuses HEAD (405, 501, or a 2xx without a
   * digest) is asked with a GET instead, and the digest computed from the
   * bytes. A 429 is not retried: it throws RegistryRateLimited with the
   * registry's Retry-After, for the caller to back off.
   */
  async headManifest(repo: Repo, reference: string): Promise<ManifestDescriptor> {
    const path = `/v2/${repo.repository}/manifests/${reference}`;
    const where = `${repo.registry}/${repo.repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`;
    const res = await this.request(repo, path, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT.join(", ") }, expect: [200, 404, 405, 429, 501] });
    res.cancel();
    if (res.status === 429) throw this.rateLimited(repo, res);
    if (res.status === 404) throw new ImageError("NOT_FOUND", `manifest for ${where} not found: ${reference.startsWith("sha256:") ? "no such digest" : "no such tag"} in that repository`);
    const digest = res.headers.get("docker-content-digest") ?? "";
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const size = Number(res.headers.get("content-length") ?? "NaN");
    if (res.status === 200 && /^sha256:[a-f0-9]{64}$/.test(digest) && mediaType && Number.isFinite(size)) {
      if (reference.startsWith("sha256:") && digest !== reference) {
        throw new ImageError("DIGEST_MISMATCH", `manifest digest mismatch: asked for ${reference}, the registry answered ${digest}`);
      }
      return { digest, mediaType, size };
    }
    const fetched = await this.getManifest(repo, reference, { rateLimit: true });
    return { digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.bytes.length };
  }

  private rateLimited(repo: Repo, res: HttpResponse): RegistryRateLimited {
    const seconds = parseRetryAfter(res.headers.get("retry-after")) ?? DEFAULT_RATE_LIMIT_SECONDS;
    return new RegistryRateLimited(`registry ${repo.registry} is rate limiting requests (429): retry after ${seconds} s`, seconds);
  }

  /** A blob as a stream; the caller verifies its digest (the content store does). */
  async getBlob(repo: Repo, digest: string): Promise<{ stream: Readable; size: number | null }> {
    const res = await this.request(repo, `/v2/${repo.repository}/blobs/${digest}`, { expect: [200, 404] });
    if (res.status === 404) {
      res.cancel();
      throw new ImageError("NOT_FOUND", `blob ${digest} not found in ${repo.registry}/${repo.repository}`);
    }
    const length = res.headers.get("content-length");
    return { stream: res.body, size: length === null ? null : Number(length) };
  }

  async hasBlob(repo: Repo, digest: string): Promise<boolean> {
    const res = await this.request(repo, `/v2/${repo.repository}/blobs/${digest}`, {
      method: "HEAD",
      actions: "pull,push",
      expect: [200, 404],
    });
    res.cancel();
    return res.status === 200;
  }

  /** Cross-repository mount; false when the registry started an upload instead. */
  async mountBlob(repo: Repo, digest: string, from: string): Promise<boolean> {
    const res = await this.request(
      repo,
      `/v2/${repo.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      { method: "POST", actions: "pull,push", extraScopes: [`repository:${from}:pull`], expect: [201, 202] },
    );
    res.cancel();
    if (res.status === 201) return true;
    // The registry opened an upload session instead; cancel it.
    const location = res.headers.get("location");
    if (location) await this.requestUrl(repo, this.resolve(repo, location), { method: "DELETE", actions: "pull,push", expect: [204, 404, 405] }).catch(() => {});
    return false;
  }

  /** Uploads a blob monolithically, or in chunks of `chunkSize` bytes when it is bigger. */
  async uploadBlob(repo: Repo, digest: string, size: number, open: (start?: number, end?: number) => Readable, chunkSize = this.options.uploadChunkSize ?? 32 * 1024 * 1024): Promise<void> {
    const start = await this.request(repo, `/v2/${repo.repository}/blobs/uploads/`, {
      method: "POST",
      actions: "pull,push",
      headers: { "content-length": "0" },
      expect: [202],
    });
    start.cancel();
    if (!start.headers.get("location")) throw new ImageError("REGISTRY_ERROR", `registry ${repo.registry} started an upload without a Location`);
    let location = this.resolve(repo, start.headers.get("location")!);
    if (size <= chunkSize) {
      const res = await this.requestUrl(repo, withQuery(location, { digest }), {
        method: "PUT",
        actions: "pull,push",
        headers: { "content-type": "application/octet-stream", "content-length": String(size) },
        body: () => open(),
        expect: [201],
      });
      res.cancel();
      return;
    }
    for (let offset = 0; offset < size; offset += chunkSize) {
      const length = Math.min(chunkSize, size - offset);
      const start = offset;
      const res = await this.requestUrl(repo, location, {
        method: "PATCH",
        actions: "pull,push",
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(length),
          "content-range": `${offset}-${offset + length - 1}`,
        },
        body: () => open(start, start + length - 1),
        expect: [202],
      });
      res.cancel();
      location = this.resolve(repo, res.headers.get("location") ?? location);
    }
    const done = await this.requestUrl(repo, withQuery(location, { digest }), {
      method: "PUT",
      actions: "pull,push",
      headers: { "content-length": "0" },
      expect: [201],
    });
    done.cancel();
  }

  async putManifest(repo: Repo, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.request(repo, `/v2/${repo.repository}/manifests/${reference}`, {
      method: "PUT",
      actions: "pull,push",
      headers: { "content-type": mediaType, "content-length": String(bytes.length) },
      body: () => bytes,
      expect: [201],
    });
    res.cancel();
    return res.headers.get("docker-content-digest") ?? sha256(bytes);
  }

  // ---- transport ----

  private resolve(repo: Repo, location: string): string {
    return new URL(location, this.baseUrl(repo.registry)).toString();
  }

  private request(repo: Repo, path: string, options: RequestOptions): Promise<HttpResponse> {
    return this.requestUrl(repo, this.baseUrl(repo.registry) + path, options);
  }

  private scopes(repo: Repo, options: RequestOptions): string[] {
    if (!repo.repository) return [];
    return [`repository:${repo.repository}:${options.actions ?? "pull"}`, ...(options.extraScopes ?? [])];
  }

  /**
   * Tokens are cached per registry, scope and credentials: a token one caller's
   * password earned is never handed to a caller with other (or no) credentials.
   */
  private authKey(repo: Repo, options: RequestOptions) {
    const creds = this.options.credentials?.(repo.registry);
    const who = creds ? createHash("sha256").update(`${creds.username}\0${creds.password}`).digest("hex").slice(0, 16) : "anonymous";
    return `${repo.registry} ${who} ${this.scopes(repo, options).join(" ")}`;
  }

  private authHeader(repo: Repo, options: RequestOptions): string | undefined {
    const cached = this.tokens.get(this.authKey(repo, options));
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const creds = this.options.credentials?.(repo.registry);
    if (creds && this.basic.has(repo.registry)) {
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    return undefined;
  }

  private async requestUrl(repo: Repo, url: string, options: RequestOptions): Promise<HttpResponse> {
    let challenged = false;
    // Credentials go to the registry itself, never to a host it names in Location or redirects to.
    const registryOrigin = new URL(this.baseUrl(repo.registry)).origin;
    const own = new URL(url).origin === registryOrigin;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.send(url, options, own ? this.authHeader(repo, options) : undefined, registryOrigin);
      } catch (e) {
        // Our own verdicts (too many redirects, a redirected upload) keep their message.
        if (e instanceof ImageError) throw e;
        const code = networkCode(e);
        if (!(e instanceof LocalRegistryRefused) && attempt < this.retries && RETRYABLE_CODES.has(code) && (!options.body || options.method !== "PATCH")) {
          await sleep(200 * 2 ** attempt);
          continue;
        }
        throw this.unreachable(`registry ${repo.registry}`, url, e);
      }
      if (res.status === 401 && !challenged && own) {
        challenged = true;
        const challenge = parseChallenge(res.headers.get("www-authenticate"));
        res.cancel();
        if (challenge) {
          await this.authenticate(repo, options, challenge);
          continue;
        }
      }
      // A status the caller handles itself (a 429 the registry watcher backs off on) is not retried here.
      if (RETRYABLE_STATUS.has(res.status) && attempt < this.retries && !options.expect?.includes(res.status)) {
        res.cancel();
        const after = Number(res.headers.get("retry-after"));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 5) * 1000 : 200 * 2 ** attempt);
        continue;
      }
      if (options.expect?.includes(res.status)) return res;
      throw await this.httpError(repo, res);
    }
  }

  private async authenticate(repo: Repo, options: RequestOptions, challenge: { scheme: string; params: Record<string, string> }) {
    const creds = this.options.credentials?.(repo.registry);
    if (challenge.scheme === "basic") {
      if (!creds) throw new ImageError("UNAUTHORIZED", `registry ${repo.registry} requires a username and password`);
      this.basic.add(repo.registry);
      return;
    }
    if (challenge.scheme !== "bearer" || !challenge.params.realm) {
      throw new ImageError("UNAUTHORIZED", `registry ${repo.registry} asked for unsupported authentication "${challenge.scheme}"`);
    }
    let url: URL;
    try {
      url = new URL(challenge.params.realm);
    } catch {
      throw new ImageError("REGISTRY_ERROR", `registry ${repo.registry} named an invalid token service "${challenge.params.realm}"`);
    }
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    for (const scope of this.scopes(repo, options)) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    let res: HttpResponse;
    try {
      res = await httpExchange(url, { method: "GET", headers: { "user-agent": this.userAgent, ...headers }, idleTimeoutMs: this.idleTimeoutMs, guard: this.guard });
    } catch (e) {
      throw this.unreachable(`the token service of registry ${repo.registry}`, url.toString(), e);
    }
    if (res.status === 401 || res.status === 403) {
      res.cancel();
      throw new ImageError("UNAUTHORIZED", `registry ${repo.registry} refused the credentials${creds ? ` for ${creds.username}` : " (none given)"}`);
    }
    if (!res.ok) {
      res.cancel();
      throw new ImageError("REGISTRY_ERROR", `token service of ${repo.registry} answered ${res.status}`);
    }
    const body = (await readLimited(res.body, 1024 * 1024, "token response")
      .then((bytes) => JSON.parse(bytes.toString("utf8")) as unknown)
      .catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new ImageError("REGISTRY_ERROR", `token service of ${repo.registry} returned no token`);
    const lifetime = Math.max(10, body.expires_in ?? 60);
    this.tokens.set(this.authKey(repo, options), { token, expires: Date.now() + (lifetime - 5) * 1000 });
  }

  /** One HTTP exchange, following redirects by hand so Authorization never leaves its host. */
  private async send(url: string, options: RequestOptions, authorization: string | undefined, registryOrigin: string): Promise<HttpResponse> {
    let current = new URL(url);
    const method = options.method ?? "GET";
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      // identity: a compressing proxy would otherwise change what we measure and hash.
      const headers: Record<string, string> = { "user-agent": this.userAgent, "accept-encoding": "identity", ...options.headers };
      if (authorization && current.origin === registryOrigin) headers.authorization = authorization;
      const res = await httpExchange(current, {
        method: hop === 0 ? method : method === "HEAD" ? "HEAD" : "GET",
        headers,
        body: hop === 0 ? options.body?.() : undefined,
        idleTimeoutMs: this.idleTimeoutMs,
        guard: this.guard,
      });
      if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
        res.cancel();
        if (method !== "GET" && method !== "HEAD") {
          throw new ImageError("REGISTRY_ERROR", `registry redirected a ${method} request to ${res.headers.get("location")}; redirected uploads are not supported`);
        }
        current = new URL(res.headers.get("location")!, current);
        continue;
      }
      return res;
    }
    throw new ImageError("REGISTRY_ERROR", `too many redirects from ${url}`);
  }

  private async httpError(repo: Repo, res: HttpResponse): Promise<ImageError> {
    const text = (await readLimited(res.body, 64 * 1024, "error body").catch(() => Buffer.alloc(0))).toString("utf8");
    let detail = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      if (parsed.errors?.length) detail = parsed.errors.map((e) => `${e.code ?? ""} ${e.message ?? ""}`.trim()).join("; ");
    } catch {
      // Not JSON: keep the text.
    }
    const where = `${repo.registry}${repo.repository ? `/${repo.repository}` : ""}`;
    if (res.status === 401) return new ImageError("UNAUTHORIZED", `registry ${where}: authentication required or credentials refused${detail ? ` (${detail})` : ""}`);
    if (res.status === 403) return new ImageError("DENIED", `registry ${where}: access denied${detail ? ` (${detail})` : ""}`);
    if (res.status === 404) return new ImageError("NOT_FOUND", `registry ${where}: not found${detail ? ` (${detail})` : ""}`);
    return new ImageError("REGISTRY_ERROR", `registry ${where} answered ${res.status}${detail ? `: ${detail}` : ""}`);
  }
}

async function readLimited(stream: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > max) throw new ImageError("SIZE_MISMATCH", `${what} is larger than ${max} bytes`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}
