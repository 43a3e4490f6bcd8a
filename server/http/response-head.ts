import "server-only";
import type { Readable } from "node:stream";

// Reads an HTTP/1.x response head off a raw stream — an upgraded connection to
// an agent, where node:http does not parse the answer — bounded in size and time.
// Used by the Docker-API proxy's hijacked streams and by the exec terminal.

export interface ResponseHead {
  status: number;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Map<string, string>;
  /** The head's bytes exactly as received, up to and including the blank line. */
  raw: Buffer;
  /** Bytes after the head that came with it. */
  rest: Buffer;
}

export type ResponseHeadFailure = "timeout" | "too-large" | "not-http" | "closed" | "stream";

export class ResponseHeadError extends Error {
  constructor(
    readonly kind: ResponseHeadFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ResponseHeadError";
  }
}

const MAX_HEAD_BYTES = 64 * 1024;

function parseHead(raw: Buffer): Pick<ResponseHead, "status" | "headers"> | null {
  const lines = raw.toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
  if (!m) return null;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

/** Reads the status line and headers; the stream is left paused, what followed the head in `rest`. */
export function readResponseHead(stream: Readable, timeoutMs: number): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new ResponseHeadError("timeout", `no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf("\r\n\r\n");
      if (end === -1) {
        if (buffered.length > MAX_HEAD_BYTES) finish(new ResponseHeadError("too-large", "the answer's head is too large"));
        return;
      }
      const raw = buffered.subarray(0, end + 4);
      const head = parseHead(buffered.subarray(0, end));
      if (!head) return finish(new ResponseHeadError("not-http", "the answer is not HTTP"));
      finish(null, { ...head, raw, rest: buffered.subarray(end + 4) });
    };
    const onEnd = () => finish(new ResponseHeadError("closed", "the connection closed before an answer"));
    const onError = (e: Error) => finish(new ResponseHeadError("stream", e.message, { cause: e }));
    function finish(err: Error | null, head?: ResponseHead) {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      stream.pause();
      if (err) reject(err);
      else resolve(head!);
    }
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onError);
    stream.resume();
  });
}
