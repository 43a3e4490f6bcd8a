import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { API_VERSION, AGENT_VERSION } from "../version";
import { ApiError } from "./errors";

// Small HTTP toolkit for the Docker-compatible API: routing with and without
// the /v1.xx prefix, JSON bodies with a size cap, JSON answers with the exact
// headers the docker CLI expects, and hijacking for attach/exec.

export const MIN_API_VERSION = "1.24";
/** JSON request bodies (create, exec, …); archives stream and have their own limits. */
export const MAX_JSON_BODY = 1024 * 1024;

export interface Ctx {
  req: IncomingMessage;
  /** Absent on hijacked (upgrade) requests, which answer on `socket`. */
  res: ServerResponse | null;
  socket: Duplex | null;
  /** Bytes that arrived with the upgrade request after its headers. */
  head: Buffer | null;
  url: URL;
  params: string[];
  apiVersion: string;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    // `{name}` matches one path segment (names, ids, or image names with slashes for /images/{name}/…).
    const source = path.replace(/\{(\w+)\*?\}/g, (m) => (m.endsWith("*}") ? "(.+?)" : "([^/]+)"));
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: string[] } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      if (r.method === method || (method === "HEAD" && r.method === "GET")) {
        let params: string[];
        try {
          params = m.slice(1).map(decodeURIComponent);
        } catch {
          throw new ApiError(400, `malformed percent-encoding in ${path}`);
        }
        return { handler: r.handler, params };
      }
      allowed.push(r.method);
    }
    return allowed.length ? { allowed } : null;
  }
}

export function commonHeaders(): Record<string, string> {
  return {
    "Api-Version": API_VERSION,
    Ostype: "linux",
    Server: `Berth/${AGENT_VERSION} (linux)`,
    "Docker-Experimental": "false",
  };
}

export function sendJson(ctx: Ctx, status: number, body: unknown): void {
  const res = ctx.res;
  if (!res) throw new Error("sendJson on a hijacked request");
  const text = JSON.stringify(body);
  res.writeHead(status, { ...commonHeaders(), "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(ctx: Ctx, status: number): void {
  ctx.res!.writeHead(status, commonHeaders());
  ctx.res!.end();
}

export function sendError(res: ServerResponse, e: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e.status === 304) {
    res.writeHead(304, commonHeaders());
    res.end();
    return;
  }
  const text = JSON.stringify({ message: e.message });
  // Exactly application/json: the CLI compares the header as a string.
  res.writeHead(e.status, { ...commonHeaders(), "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a JSON body (refusing more than `limit` bytes). An empty body is `undefined`. */
export async function readJson(ctx: Ctx, limit = MAX_JSON_BODY): Promise<unknown> {
  const text = (await readBody(ctx, limit)).toString("utf8");
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ApiError(400, `invalid JSON in request body: ${(e as Error).message}`);
  }
}

export async function readBody(ctx: Ctx, limit: number): Promise<Buffer> {
  const declared = Number(ctx.req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new ApiError(413, `request body is too large (${declared} bytes; the limit is ${limit})`);
  if (ctx.socket) return readHijackedBody(ctx, Number.isFinite(declared) ? declared : 0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.resume();
      throw new ApiError(413, `request body is too large (over ${limit} bytes)`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** On an upgrade request the body (e.g. exec start's JSON) is in `head` plus whatever follows on the socket. */
async function readHijackedBody(ctx: Ctx, length: number): Promise<Buffer> {
  let data = ctx.head ?? Buffer.alloc(0);
  const socket = ctx.socket!;
  while (data.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (c: Buffer) => {
        cleanup();
        resolve(c);
      };
      const onEnd = () => {
        cleanup();
        resolve(null);
      };
      const cleanup = () => {
        socket.off("data", onData);
        socket.off("end", onEnd);
        socket.off("close", onEnd);
        socket.pause();
      };
      socket.on("data", onData);
      socket.once("end", onEnd);
      socket.once("close", onEnd);
      socket.resume();
    });
    if (!chunk) break;
    data = Buffer.concat([data, chunk]);
  }
  ctx.head = data.subarray(length);
  return data.subarray(0, length);
}

/** Answers an upgrade request with 101 and hands back the raw socket. */
export function hijack(ctx: Ctx, contentType: string): Duplex {
  const socket = ctx.socket;
  if (!socket) throw new ApiError(400, "this endpoint needs a connection upgrade (Upgrade: tcp)");
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
    Object.entries(commonHeaders()).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n");
  return socket;
}

/** For non-upgrade attach requests (old clients): a 200 with the stream as the body. */
export function streamResponse(ctx: Ctx, contentType: string): ServerResponse {
  const res = ctx.res!;
  res.writeHead(200, { ...commonHeaders(), "Content-Type": contentType });
  res.flushHeaders();
  return res;
}

export const query = {
  bool(url: URL, name: string, fallback = false): boolean {
    const v = url.searchParams.get(name);
    if (v === null) return fallback;
    return !(v === "" || v === "0" || v.toLowerCase() === "false");
  },
  int(url: URL, name: string): number | undefined {
    const v = url.searchParams.get(name);
    if (v === null || v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ApiError(400, `invalid value for ${name}: ${v}`);
    return n;
  },
  /** Docker's filters: map form {"key":{"value":true}} or list form {"key":["value"]}. */
  filters(url: URL): Map<string, string[]> {
    const raw = url.searchParams.get("filters");
    const out = new Map<string, string[]>();
    if (!raw) return out;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ApiError(400, `invalid filters: ${raw}`);
    }
    if (!parsed || typeof parsed !== "object") throw new ApiError(400, `invalid filters: ${raw}`);
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out.set(k, v.map(String));
      else if (v && typeof v === "object") out.set(k, Object.keys(v));
    }
    return out;
  },
};

/** Orders two API versions ("1.41" < "1.45"). */
export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split(".").map(Number);
  const [b1, b2] = b.split(".").map(Number);
  return a1! - b1! || a2! - b2!;
}
