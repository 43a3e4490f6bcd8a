import "server-only";
import type { Readable } from "node:stream";

export interface CappedBody {
  /** The first `maxBytes` bytes at most. */
  body: Buffer;
  /** Whether that is all of it (the rest was read and dropped otherwise). */
  complete: boolean;
}

/**
 * A whole message (an agent's answer, usually small) read into memory up to
 * `maxBytes`; what comes past that is read and dropped, so the stream still
 * ends. Rejects if the stream fails before it ends.
 */
export function readCapped(stream: Readable, maxBytes: number): Promise<CappedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) chunks.push(c);
    });
    stream.once("end", () => resolve({ body: Buffer.concat(chunks), complete: size <= maxBytes }));
    stream.once("error", reject);
  });
}
