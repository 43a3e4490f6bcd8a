import "server-only";
import type { ImageProvenance } from "../../../lib/image-provenance";
import type { AgentBulkStats } from "../../stats/bulk-types";
import http from "node:http";
import type { Duplex, Readable } from "node:stream";
import { FleetError } from "../errors";
import { demux, jsonLines, type LogFrame } from "./streams";
import type {
  AgentEvent,
  AgentVersion,
  ContainerInspect,
  ContainerStats,
  ContainerSummary,
  ImageSummary,
  NetworkSummary,
  PullProgress,
  VolumeSummary,
} from "./types";

// A typed client for the agent's Docker Engine API subset. It speaks HTTP/1.1
// over any byte stream: an SSH channel to the agent's socket, an exec channel
// running `berth-agent dial-stdio`, or the local socket. One stream per request.

export type OpenStream = () => Promise<Duplex>;

/** GET /distribution/{name}/json (Docker's DistributionInspect; Created is the agent's addition: the image config's `created`). */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: { architecture: string; os: string; variant?: string }[] | null;
  Created?: string;
}

const API = "/v1.43";
const DEFAULT_TIMEOUT_MS = 10_000;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** For whole answers: how long the agent may take. Streams have no deadline once headers arrive. */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

function pathWith(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const q = params.toString();
  return `${API}${path}${q ? `?${q}` : ""}`;
}

/** A whole answer, capped: a misbehaving host must not exhaust the gateway's memory. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += (c as Buffer).length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new FleetError("AGENT_ERROR", `The agent's answer is larger than ${MAX_ANSWER_BYTES} bytes.`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function errorMessage(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // not JSON: use the text
  }
  return text.trim() || `agent answered HTTP ${status}`;
}

export class AgentClient {
  constructor(
    private readonly open: OpenStream,
    private readonly label: string,
  ) {}

  /** Sends a request and resolves when the response headers arrive. */
  private async send(method: string, path: string, o: RequestOptions = {}): Promise<Answer> {
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (o.signal?.aborted) throw new FleetError("AGENT_ERROR", "cancelled");
    let stream: Duplex;
    try {
      stream = await withDeadline(this.open(), timeoutMs, `${this.label} did not open a channel within ${timeoutMs / 1000} s`);
    } catch (e) {
      if (e instanceof FleetError) throw e;
      throw new FleetError("AGENT_UNREACHABLE", `The agent on ${this.label} can't be reached: ${e instanceof Error ? e.message : String(e)}`);
    }
    const payload = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(JSON.stringify(o.body));
    return new Promise<Answer>((resolve, reject) => {
      const req = http.request({
        method,
        path: pathWith(path, o.query),
        createConnection: () => stream as never,
        headers: {
          host: "berth-agent",
          ...(payload ? { "content-type": Buffer.isBuffer(o.body) ? "application/octet-stream" : "application/json", "content-length": payload.length } : {}),
          ...o.headers,
        },
      });
      const timer = setTimeout(() => {
        o.signal?.removeEventListener("abort", abort);
        req.destroy();
        reject(new FleetError("TIMEOUT", `The agent on ${this.label} did not answer ${method} ${path} within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      const abort = () => {
        req.destroy();
        stream.destroy();
      };
      o.signal?.addEventListener("abort", abort, { once: true });
      req.once("response", (res) => {
        clearTimeout(timer);
        res.once("close", () => {
          o.signal?.removeEventListener("abort", abort);
          stream.destroy();
        });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.once("error", (e) => {
        clearTimeout(timer);
        o.signal?.removeEventListener("abort", abort);
        reject(new FleetError("AGENT_UNREACHABLE", `The agent on ${this.label} failed: ${e.message}`));
      });
      req.end(payload);
    });
  }

  private async call(method: string, path: string, o: RequestOptions = {}): Promise<Buffer> {
    const answer = await this.send(method, path, o);
    const body = await readAll(answer.body);
    if (answer.status >= 400) {
      throw new FleetError("AGENT_ERROR", errorMessage(answer.status, body.toString("utf8")), { status: answer.status, host: this.label });
    }
    return body;
  }

  private async json<T>(method: string, path: string, o?: RequestOptions): Promise<T> {
    const body = await this.call(method, path, o);
    return (body.length ? JSON.parse(body.toString("utf8")) : null) as T;
  }

  /** A streaming answer; errors before the stream starts are thrown. */
  private async stream(method: string, path: string, o: RequestOptions = {}): Promise<http.IncomingMessage> {
    const answer = await this.send(method, path, o);
    if (answer.status >= 400) {
      const text = (await readAll(answer.body)).toString("utf8");
      throw new FleetError("AGENT_ERROR", errorMessage(answer.status, text), { status: answer.status, host: this.label });
    }
    return answer.body;
  }

  async ping(o?: RequestOptions): Promise<string> {
    return (await this.call("GET", "/_ping", o)).toString("utf8");
  }

  version(o?: RequestOptions): Promise<AgentVersion> {
    return this.json("GET", "/version", o);
  }

  info(o?: RequestOptions): Promise<Record<string, unknown>> {
    return this.json("GET", "/info", o);
  }

  containers(o: RequestOptions & { all?: boolean } = {}): Promise<ContainerSummary[]> {
    return this.json("GET", "/containers/json", { ...o, query: { all: o.all ?? true, ...o.query } });
  }

  inspectContainer(id: string, o?: RequestOptions): Promise<ContainerInspect> {
    return this.json("GET", `/containers/${encodeURIComponent(id)}/json`, o);
  }

  createContainer(spec: Record<string, unknown>, name?: string, o?: RequestOptions): Promise<{ Id: string; Warnings: string[] }> {
    return this.json("POST", "/containers/create", { ...o, query: { name }, body: spec });
  }

  async startContainer(id: string, o?: RequestOptions): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(id)}/start`, o);
  }

  async stopContainer(id: string, o: RequestOptions & { timeoutSeconds?: number } = {}): Promise<void> {
    const t = o.timeoutSeconds ?? 10;
    await this.call("POST", `/containers/${encodeURIComponent(id)}/stop`, { timeoutMs: (t + 10) * 1000, ...o, query: { t } });
  }

  async restartContainer(id: string, o?: RequestOptions): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(id)}/restart`, { timeoutMs: 30_000, ...o });
  }

  async removeContainer(id: string, o: RequestOptions & { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.call("DELETE", `/containers/${encodeURIComponent(id)}`, { timeoutMs: 30_000, ...o, query: { force: o.force ?? false, v: o.volumes ?? false } });
  }

  /** Log lines; with follow, until the container stops or the signal aborts. */
  async *logs(
    id: string,
    o: RequestOptions & { follow?: boolean; tail?: number | "all"; timestamps?: boolean; tty?: boolean; since?: number; until?: number } = {},
  ): AsyncGenerator<LogFrame> {
    const tty = o.tty ?? (await this.inspectContainer(id, o)).Config.Tty;
    const body = await this.stream("GET", `/containers/${encodeURIComponent(id)}/logs`, {
      ...o,
      query: { stdout: 1, stderr: 1, follow: o.follow ? 1 : 0, tail: o.tail ?? "all", timestamps: o.timestamps ? 1 : 0, since: o.since, until: o.until },
    });
    try {
      yield* demux(body, tty);
    } catch (e) {
      // The caller cancelling (the browser went away) ends the stream quietly.
      if (!o.signal?.aborted) throw e;
    } finally {
      body.destroy();
    }
  }

  /** One stats sample (stream=false). */
  stats(id: string, o?: RequestOptions): Promise<ContainerStats> {
    return this.json("GET", `/containers/${encodeURIComponent(id)}/stats`, { timeoutMs: 15_000, ...o, query: { stream: "false" } });
  }

  /** Berth's GET /berth/stats: every running container's counters, the host's and its filesystems', in one answer. */
  bulkStats(o?: RequestOptions): Promise<AgentBulkStats> {
    return this.json("GET", "/berth/stats", { timeoutMs: 30_000, ...o });
  }

  /** Runs a command in a running container and collects its output. */
  async exec(id: string, cmd: string[], o: RequestOptions = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const created = await this.json<{ Id: string }>("POST", `/containers/${encodeURIComponent(id)}/exec`, {
      ...o,
      body: { Cmd: cmd, AttachStdout: true, AttachStderr: true },
    });
    const body = await this.stream("POST", `/exec/${created.Id}/start`, { ...o, body: { Detach: false, Tty: false } });
    let stdout = "";
    let stderr = "";
    for await (const frame of demux(body, false)) {
      if (frame.stream === "stdout") stdout += frame.text;
      else stderr += frame.text;
    }
    const inspected = await this.json<{ ExitCode: number | null }>("GET", `/exec/${created.Id}/json`, o);
    return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
  }

  /**
   * GET /distribution/{name}/json: what a tag points at in its registry, as
   * this host sees the registry (a HEAD on the manifest). A registry that
   * rate limits answers 429: thrown as a FleetError with status 429 and
   * `retryAfterSeconds` (the registry's Retry-After).
   */
  async distribution(name: string, o: RequestOptions & { registryAuth?: string } = {}): Promise<DistributionInspect> {
    const answer = await this.send("GET", `/distribution/${name.split("/").map(encodeURIComponent).join("/")}/json`, {
      timeoutMs: 30_000,
      ...o,
      headers: { ...o.headers, ...(o.registryAuth ? { "x-registry-auth": o.registryAuth } : {}) },
    });
    const body = await readAll(answer.body);
    if (answer.status >= 400) {
      const error = new FleetError("AGENT_ERROR", errorMessage(answer.status, body.toString("utf8")), { status: answer.status, host: this.label });
      if (answer.status === 429) {
        const seconds = Number(answer.headers["retry-after"]);
        Object.assign(error, { retryAfterSeconds: Number.isFinite(seconds) && seconds > 0 ? seconds : null });
      }
      throw error;
    }
    return JSON.parse(body.toString("utf8")) as DistributionInspect;
  }

  /** Pulls an image, reporting Docker-shaped progress; throws on the stream's error message. */
  async pull(reference: string, o: RequestOptions & { onProgress?: (p: PullProgress) => void; registryAuth?: string } = {}): Promise<void> {
    const body = await this.stream("POST", "/images/create", {
      ...o,
      timeoutMs: o.timeoutMs ?? 30_000,
      query: { fromImage: reference },
      headers: o.registryAuth ? { "x-registry-auth": o.registryAuth } : undefined,
    });
    for await (const p of jsonLines<PullProgress>(body)) {
      if (p.error) throw new FleetError("AGENT_ERROR", p.errorDetail?.message ?? p.error);
      o.onProgress?.(p);
    }
  }

  /** Extracts a tar (built in memory: it is never written on the gateway's disk) into a directory of the container (PUT /containers/{id}/archive). */
  async putArchive(id: string, path: string, tar: Buffer, o?: RequestOptions): Promise<void> {
    await this.call("PUT", `/containers/${encodeURIComponent(id)}/archive`, { timeoutMs: 30_000, ...o, query: { path }, body: tar, headers: { "content-type": "application/x-tar", ...o?.headers } });
  }

  async renameContainer(id: string, name: string, o?: RequestOptions): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(id)}/rename`, { ...o, query: { name } });
  }

  /** docker network connect: the container joins a network with its aliases there (a stopped one only records it). */
  async connectNetwork(network: string, container: string, endpoint: { Aliases?: string[]; IPAMConfig?: unknown } = {}, o?: RequestOptions): Promise<void> {
    await this.call("POST", `/networks/${encodeURIComponent(network)}/connect`, { ...o, body: { Container: container, EndpointConfig: endpoint } });
  }

  async pauseContainer(id: string, o?: RequestOptions): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(id)}/pause`, o);
  }

  async unpauseContainer(id: string, o?: RequestOptions): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(id)}/unpause`, o);
  }

  async killContainer(id: string, o: RequestOptions & { killSignal?: string } = {}): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(id)}/kill`, { ...o, query: { signal: o.killSignal ?? "SIGKILL" } });
  }

  /** The image's record, or null if the host doesn't have it. */
  async inspectImage(
    reference: string,
    o?: RequestOptions,
  ): Promise<{ Id: string; RepoTags: string[] | null; Size: number; Config?: Record<string, unknown>; BerthProvenance?: ImageProvenance } | null> {
    try {
      return await this.json("GET", `/images/${encodeURIComponent(reference)}/json`, o);
    } catch (e) {
      if (e instanceof FleetError && e.details.status === 404) return null;
      throw e;
    }
  }

  /** An exec's state once it ran: its exit code, and the container it ran in. */
  inspectExec(id: string, o?: RequestOptions): Promise<{ ExitCode: number | null; ContainerID?: string; Running?: boolean }> {
    return this.json("GET", `/exec/${encodeURIComponent(id)}/json`, o);
  }

  async removeImage(reference: string, o: RequestOptions & { force?: boolean } = {}): Promise<void> {
    await this.call("DELETE", `/images/${encodeURIComponent(reference)}`, { timeoutMs: 60_000, ...o, query: { force: o.force ?? false } });
  }

  async tagImage(source: string, target: string, o?: RequestOptions): Promise<void> {
    const at = target.lastIndexOf(":");
    const slash = target.lastIndexOf("/");
    const [repo, tag] = at > slash ? [target.slice(0, at), target.slice(at + 1)] : [target, "latest"];
    await this.call("POST", `/images/${encodeURIComponent(source)}/tag`, { ...o, query: { repo, tag } });
  }

  /** Pushes a tagged image, reporting progress; throws on the stream's error message. */
  async push(reference: string, o: RequestOptions & { onProgress?: (p: PullProgress) => void; registryAuth?: string } = {}): Promise<void> {
    const body = await this.stream("POST", `/images/${encodeURIComponent(reference)}/push`, {
      ...o,
      timeoutMs: o.timeoutMs ?? 30_000,
      headers: { "x-registry-auth": o.registryAuth ?? Buffer.from("{}").toString("base64") },
    });
    for await (const p of jsonLines<PullProgress>(body)) {
      if (p.error) throw new FleetError("AGENT_ERROR", p.errorDetail?.message ?? p.error);
      o.onProgress?.(p);
    }
  }

  createNetwork(body: { Name: string; Driver?: string; Internal?: boolean; Labels?: Record<string, string>; IPAM?: unknown }, o?: RequestOptions): Promise<{ Id: string }> {
    return this.json("POST", "/networks/create", { ...o, body });
  }

  /** docker network disconnect: the container leaves the network (the embedded DNS stops answering with it there). */
  async disconnectNetwork(network: string, container: string, o: RequestOptions & { force?: boolean } = {}): Promise<void> {
    await this.call("POST", `/networks/${encodeURIComponent(network)}/disconnect`, { ...o, body: { Container: container, Force: o.force ?? false } });
  }

  async removeNetwork(id: string, o?: RequestOptions): Promise<void> {
    await this.call("DELETE", `/networks/${encodeURIComponent(id)}`, o);
  }

  createVolume(body: { Name?: string; Labels?: Record<string, string> }, o?: RequestOptions): Promise<VolumeSummary> {
    return this.json("POST", "/volumes/create", { ...o, body });
  }

  async removeVolume(name: string, o: RequestOptions & { force?: boolean } = {}): Promise<void> {
    await this.call("DELETE", `/volumes/${encodeURIComponent(name)}`, { ...o, query: { force: o.force ?? false } });
  }

  images(o?: RequestOptions): Promise<ImageSummary[]> {
    return this.json("GET", "/images/json", o);
  }

  networks(o?: RequestOptions): Promise<NetworkSummary[]> {
    return this.json("GET", "/networks", o);
  }

  async volumes(o?: RequestOptions): Promise<VolumeSummary[]> {
    return (await this.json<{ Volumes: VolumeSummary[] | null }>("GET", "/volumes", o)).Volumes ?? [];
  }

  /** The agent's event stream, until the signal aborts or the connection drops. */
  async *events(o: RequestOptions = {}): AsyncGenerator<AgentEvent> {
    const body = await this.stream("GET", "/events", o);
    try {
      yield* jsonLines<AgentEvent>(body);
    } catch (e) {
      if (!o.signal?.aborted) throw e;
    } finally {
      body.destroy();
    }
  }
}

/** Waits for a stream at most `ms`; one that arrives late is closed, not leaked. */
/** `work` (opening a stream), or FleetError TIMEOUT after `ms`; a stream that arrives late is destroyed. */
export function withDeadline<T extends { destroy(): void }>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new FleetError("TIMEOUT", message));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (late) value.destroy();
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
