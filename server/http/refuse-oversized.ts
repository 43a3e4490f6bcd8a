import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { drainCap } from "./limited-request";

/**
 * Answers 413 to a request whose declared Content-Length is over the limit.
 * A body up to the drain cap is read and dropped first, so the client
 * finishes sending and reads the answer on a connection it can reuse;
 * a larger one is answered at once and the connection closed.
 */
export function refuseOversized(req: IncomingMessage, res: ServerResponse, maxBytes: number, requestId: string): void {
  const body = JSON.stringify({
    error: { code: "PAYLOAD_TOO_LARGE", message: `Request body is larger than ${maxBytes} bytes.`, requestId },
  });
  const declared = Number(req.headers["content-length"] ?? "0");
  const answer = (close: boolean) => {
    if (res.headersSent) return;
    res.writeHead(413, { "content-type": "application/json", ...(close ? { connection: "close" } : {}) });
    res.end(body);
  };
  if (declared > drainCap(maxBytes)) {
    answer(true);
    req.resume();
    return;
  }
  req.once("end", () => answer(false));
  req.once("error", () => res.destroy());
  req.resume();
}
