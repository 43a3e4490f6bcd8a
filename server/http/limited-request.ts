import { AppError } from "../errors";

/**
 * A copy of the request whose body has been read with a byte cap, so a
 * handler never buffers more than `maxBytes` (chunked bodies included).
 */
export async function limitedRequest(req: Request, maxBytes: number): Promise<Request> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${maxBytes} bytes.`);
  if (!req.body) return req;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${maxBytes} bytes.`);
    }
    chunks.push(value);
  }
  return new Request(req.url, { method: req.method, headers: req.headers, body: Buffer.concat(chunks) });
}
