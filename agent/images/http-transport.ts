import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { AgentError } from "../errors";
import type { RegistryAddressGuard } from "./registry-address";

// One HTTP exchange over node:http/https for the registry client. Bodies are
// plain Node streams end to end: fetch's web streams cost a blob download about
// a third more CPU, which on a small host is most of a pull's time.

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  /** The response body; fails with the idle-timeout error if the server goes quiet. */
  body: Readable;
  /** Discards the body: read to the end when it is small (the connection is reused), else cut. */
  cancel(): void;
}

export interface HttpExchange {
  method: string;
  headers: Record<string, string>;
  body?: Buffer | Readable;
  /** No bytes either way for this long (connect, headers or body) fails the exchange. */
  idleTimeoutMs: number;
  /** Which addresses may be connected to (checked at connect time); and the connection pool that goes with it. */
  guard?: RegistryAddressGuard;
}

const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

/** Bodies at most this big are drained on cancel so their connection can be reused. */
const DRAIN_LIMIT = 64 * 1024;

function timeoutError(): Error {
  const err = new Error("timed out");
  err.name = "TimeoutError";
  return err;
}

export function httpExchange(url: URL, exchange: HttpExchange): Promise<HttpResponse> {
  const protocol = url.protocol === "https:" ? https : url.protocol === "http:" ? http : null;
  if (!protocol) return Promise.reject(new AgentError("UNSUPPORTED", `unsupported URL scheme ${url.protocol}`));
  const guard = exchange.guard;
  try {
    guard?.checkLiteral(url);
  } catch (e) {
    // Never sent: a streamed body must still let go of its file.
    if (exchange.body instanceof Readable) exchange.body.destroy();
    return Promise.reject(e);
  }
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = protocol.request(url, {
      method: exchange.method,
      headers: exchange.headers,
      agent: (guard?.agents ?? agents)[url.protocol as "http:" | "https:"],
      ...(guard ? { lookup: guard.lookupFor(url) } : {}),
    });
    let response: http.IncomingMessage | null = null;
    // A socket idle for the timeout (no bytes in or out) ends whichever half is still running.
    req.setTimeout(exchange.idleTimeoutMs, () => {
      const err = timeoutError();
      if (response) response.destroy(err);
      req.destroy(err);
    });
    req.once("error", (err) => {
      if (!response) reject(err);
      else if (!response.destroyed) response.destroy(err);
    });
    req.once("response", (res) => {
      response = res;
      // Nothing to read (HEAD, 204, 304): released at once, or the socket stays busy until the idle timeout.
      if (exchange.method === "HEAD" || res.statusCode === 204 || res.statusCode === 304) res.resume();
      resolve(wrap(res));
    });
    const body = exchange.body;
    if (body instanceof Readable) {
      body.once("error", (err) => req.destroy(err));
      // A request that fails or is answered early stops reading the body, which must let go of its file.
      req.once("close", () => {
        if (!body.readableEnded) body.destroy();
      });
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

function wrap(res: http.IncomingMessage): HttpResponse {
  const status = res.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get(name: string) {
        const value = res.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(", ") : value;
      },
    },
    body: res,
    cancel() {
      const length = Number(res.headers["content-length"]);
      if (res.complete || (Number.isFinite(length) && length <= DRAIN_LIMIT)) res.resume();
      else res.destroy();
    },
  };
}
