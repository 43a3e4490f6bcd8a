import "server-only";
import { AppError } from "../errors";

/**
 * How much of an oversized body is read and thrown away so the client
 * finishes sending and reads our 413 (a socket closed under a sending
 * client shows it EPIPE instead of the answer). Past this the rest is
 * not read and the connection is dropped.
 */
export function drainCap(maxBytes: number): number {
  return Math.max(8 * maxBytes, 8 * 1024 * 1024);
}

function tooLarge(maxBytes: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${maxBytes} bytes.`);
}

/**
 * A copy of the request whose body has been read with a byte cap, so a
 * handler never buffers more than `maxBytes` (chunked bodies included).
 */
export async function limitedRequest(req: Request, maxBytes: number): Promise<Request> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return req;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await discardRest(reader, total, drainCap(maxBytes));
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new Request(req.url, { method: req.method, headers: req.headers, body: Buffer.concat(chunks) });
}

async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number, cap: number): Promise<void> {
  let total = seen;
  while (total <= cap) {
    const chunk = await reader.read().catch(() => null);
    if (!chunk || chunk.done) return;
    total += chunk.value.byteLength;
  }
  await reader.cancel().catch(() => {});
}
